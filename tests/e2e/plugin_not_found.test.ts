import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi } from "../support/api_client.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * `plugin_not_found` over real HTTP with AUTH_MODE=jwt: the plugins it lists are those
 * `GET /api/plugins` lists for the same caller on the same channel, so that a caller without the
 * admin role never learns of the shell plugin from a mistyped name.
 */
const audience = "api://codex-not-found";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
const tokens = { alice: "", admin: "" };

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const config = integrationConfig({
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: issuer.issuer,
    AUTH_JWT_AUDIENCE: audience,
    SHELL_PLUGIN_ALLOWED_COMMANDS: "echo",
  });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  tokens.alice = await issuer.token("alice-oid", audience);
  tokens.admin = await issuer.token("admin-oid", audience, { claims: { roles: ["admin"] } });
});

afterAll(async () => {
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

const as = (who: keyof typeof tokens) => ({
  get: (path: string) => callApi(host.url, "GET", path, { token: tokens[who] }),
  post: (path: string, body: unknown) => callApi(host.url, "POST", path, { token: tokens[who], body }),
});

/** What GET /api/plugins lists for this caller on this channel. */
async function listed(who: keyof typeof tokens, channel: string): Promise<string[]> {
  const answer = await as(who).get("/api/plugins");
  expect(answer.status).toBe(200);
  return answer.body.plugins.filter((p: { channels: string[] }) => p.channels.includes(channel)).map((p: { name: string }) => p.name);
}

describe("plugin_not_found names only what the caller may run there", () => {
  it.each([
    ["execute", "execute", (who: keyof typeof tokens) => as(who).post("/api/plugins/execute", { plugin: "nosuchplugin", data: {} })],
    ["an asynchronous execute", "execute", (who: keyof typeof tokens) => as(who).post("/api/plugins/execute", { plugin: "nosuchplugin", data: {}, async: true })],
    ["chat /run", "chat", (who: keyof typeof tokens) => as(who).post("/api/chat", { message: "/run nosuchplugin x" })],
  ] as const)("on %s: a caller without the admin role never sees shell; an admin does", async (_name, channel, ask) => {
    const alice = await ask("alice");
    expect(alice.status).toBe(404);
    expect(alice.body.error.code).toBe("plugin_not_found");
    expect(alice.text).not.toContain("shell");
    expect([...alice.body.error.details.available].sort()).toEqual((await listed("alice", channel)).sort());

    const admin = await ask("admin");
    expect(admin.status).toBe(404);
    expect(admin.body.error.details.available).toContain("shell");
    expect([...admin.body.error.details.available].sort()).toEqual((await listed("admin", channel)).sort());
  });
});
