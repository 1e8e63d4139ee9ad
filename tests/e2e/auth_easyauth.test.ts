import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi } from "../support/api_client.js";

/** AUTH_MODE=easyauth over real HTTP: the caller is whoever App Service Authentication says it is. */
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig({ AUTH_MODE: "easyauth", WEBSITE_AUTH_ENABLED: "True" }) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await services?.close();
});

function principalHeader(objectId: string, roles: string[] = []): string {
  const claims = [{ typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: objectId }, ...roles.map((val) => ({ typ: "roles", val }))];
  return Buffer.from(JSON.stringify({ auth_typ: "aad", name_typ: "name", role_typ: "roles", claims })).toString("base64");
}

const call = (method: string, path: string, headers: Record<string, string>, body?: unknown) => callApi(host.url, method, path, { headers, body });

describe("AUTH_MODE=easyauth", () => {
  it.each([
    ["no principal header", {}],
    ["a header that is not base64 JSON", { "x-ms-client-principal": "!!not base64!!" }],
    ["JSON without claims", { "x-ms-client-principal": Buffer.from('{"auth_typ":"aad"}').toString("base64") }],
  ])("answers %s with 401 unauthorized", async (_name, headers) => {
    const result = await call("GET", "/api/plugins", headers);
    expect(result.status).toBe(401);
    expect(result.body.error.code).toBe("unauthorized");
    expect(result.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("serves a well-formed principal, and keeps two principals' sessions apart", async () => {
    const sessionId = `easy-${Date.now()}`;
    const alice = { "x-ms-client-principal": principalHeader("aaaaaaaa-0000-0000-0000-000000000001") };
    const bob = { "x-ms-client-principal": principalHeader("bbbbbbbb-0000-0000-0000-000000000002") };
    expect((await call("POST", "/api/chat", alice, { message: "/run echo only-alice", sessionId })).status).toBe(200);
    expect((await call("GET", `/api/memory/audit/${sessionId}`, alice)).body.entries).toHaveLength(3);
    expect((await call("GET", `/api/memory/audit/${sessionId}`, bob)).body.entries).toEqual([]);
  });

  it("takes roles from the principal's role claims: the shell plugin is listed for an admin only", async () => {
    const user = await call("GET", "/api/plugins", { "x-ms-client-principal": principalHeader("cccccccc-0000-0000-0000-000000000003") });
    const admin = await call("GET", "/api/plugins", { "x-ms-client-principal": principalHeader("dddddddd-0000-0000-0000-000000000004", ["admin"]) });
    expect(user.body.plugins.map((p: any) => p.name)).not.toContain("shell");
    expect(admin.body.plugins.find((p: any) => p.name === "shell")?.channels).toEqual(["execute", "chat"]);
  });
});
