import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi, type ApiAnswer } from "../support/api_client.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * AUTH_MODE=jwt over real HTTP while the issuer's key set or OpenID configuration answers 500:
 * one fetch, then a back-off during which requests that need a fetch get 503 at once, while
 * tokens signed with keys already fetched keep working.
 */
const audience = "api://codex-outage";
// Short stand-ins for 30 s (doubling up to 5 min), 30 s and 10 min; every key is past its age at once.
const jwt = { fetchRetryDelayMs: 1000, fetchRetryMaxDelayMs: 4000, keyRefreshCooldownMs: 0, keyMaxAgeMs: 0 };

let issuer: TestIssuer;
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const config = integrationConfig({ AUTH_MODE: "jwt", AUTH_JWT_ISSUER: `${issuer.v1Issuer},${issuer.issuer}`, AUTH_JWT_AUDIENCE: audience });
  services = integrationServices({ config, jwt });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

const listPlugins = (token: string) => callApi(host.url, "GET", "/api/plugins", { token });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Ten requests one after another, each timed. */
async function tenTimes(token: string): Promise<{ answer: ApiAnswer; ms: number }[]> {
  const answers = [];
  for (let i = 0; i < 10; i++) {
    const started = performance.now();
    const answer = await listPlugins(token);
    answers.push({ answer, ms: performance.now() - started });
  }
  return answers;
}

function expectUnavailable(answers: { answer: ApiAnswer; ms: number }[], retryAfterSeconds: number): void {
  for (const { answer, ms } of answers) {
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe("auth_unavailable");
    expect(answer.headers.get("retry-after")).toBe(String(retryAfterSeconds));
    expect(ms).toBeLessThan(1000);
  }
}

describe("a key set endpoint answering 500", () => {
  it("is fetched once, not once per request; requests that need it get 503 until the back-off ends; known keys keep working", async () => {
    const alice = await issuer.token("alice-oid", audience);
    expect((await listPlugins(alice)).status).toBe(200);

    issuer.failing.keySet = true;
    const before = issuer.keySetFetches;
    const unknownKid = await issuer.token("mallory", audience, { forgeWithKid: "kid-nobody-published" });
    expectUnavailable(await tenTimes(unknownKid), 1);
    expect(issuer.keySetFetches - before).toBe(1);

    // Signed with a key fetched before the outage, and older than the key age: still served, with no fetch.
    expect((await listPlugins(alice)).status).toBe(200);
    expect(issuer.keySetFetches - before).toBe(1);

    await sleep(1100);
    const afterBackOff = await listPlugins(unknownKid);
    expect(afterBackOff.status).toBe(503);
    expect(afterBackOff.headers.get("retry-after")).toBe("2");
    expect(issuer.keySetFetches - before).toBe(2);

    issuer.failing.keySet = false;
    const rotatedKid = await issuer.rotate();
    const carol = await issuer.token("carol-oid", audience, { kid: rotatedKid });
    expect((await listPlugins(carol)).status).toBe(503);
    await sleep(2100);
    expect((await listPlugins(carol)).status).toBe(200);
    expect(issuer.keySetFetches - before).toBe(3);
  });
});

describe("an OpenID configuration answering 500", () => {
  it("is fetched once, not once per request; its issuer's tokens get 503 until the back-off ends; another issuer's keep working", async () => {
    const v2 = await issuer.token("alice-oid", audience);
    expect((await listPlugins(v2)).status).toBe(200);

    issuer.failing.discovery = true;
    const before = issuer.discoveryFetches;
    const v1 = await issuer.token("alice-oid", audience, { issuer: issuer.v1Issuer });
    expectUnavailable(await tenTimes(v1), 1);
    expect(issuer.discoveryFetches - before).toBe(1);
    expect((await listPlugins(v2)).status).toBe(200);

    await sleep(1100);
    expect((await listPlugins(v1)).status).toBe(503);
    expect(issuer.discoveryFetches - before).toBe(2);

    issuer.failing.discovery = false;
    await sleep(2100);
    expect((await listPlugins(v1)).status).toBe(200);
    expect(issuer.discoveryFetches - before).toBe(3);
  });
});
