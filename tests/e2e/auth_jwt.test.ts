import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import type { Services } from "../../src/services.js";
import { TestIssuer, unsignedToken } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi, settledRun } from "../support/api_client.js";
import { startRateLimitedHost } from "../support/rate_limited_host.js";

/**
 * AUTH_MODE=jwt over real HTTP, against an issuer on loopback that publishes its keys as Entra
 * does: who may call, what each principal can see, the plugin policy and the rate limit.
 */
const audience = "api://codex-e2e";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
let queues: QueueHost;
const tokens: Record<"alice" | "bob" | "admin", string> = { alice: "", bob: "", admin: "" };

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const config = integrationConfig({
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: `${issuer.v1Issuer},${issuer.issuer}`,
    AUTH_JWT_AUDIENCE: `00000000-0000-0000-0000-00000000c0de,${audience}`,
    SHELL_PLUGIN_ALLOWED_COMMANDS: "echo",
    PLUGIN_POLICY: '{"shell":{"roles":["admin"],"channels":["execute"]}}',
    QUEUE_POLL_INTERVAL_MS: "50",
  });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  queues = await startQueueHost({ functions: queueFunctions, services, retryDelaySeconds: 1 });
  tokens.alice = await issuer.token("alice-oid", audience);
  tokens.bob = await issuer.token("bob-oid", audience);
  tokens.admin = await issuer.token("admin-oid", audience, { claims: { roles: ["admin"] } });
});

afterAll(async () => {
  await queues?.stop();
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

const call = (method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  callApi(host.url, method, path, options);

const as = (who: keyof typeof tokens) => ({
  get: (path: string) => call("GET", path, { token: tokens[who] }),
  post: (path: string, body: unknown) => call("POST", path, { token: tokens[who], body }),
});

const settled = (who: keyof typeof tokens, runId: string) => settledRun(as(who).get, runId);

describe("who may call", () => {
  it.each([
    ["no token", async () => ({})],
    ["a bad signature", async () => ({ authorization: `Bearer ${tokens.alice.slice(0, -6)}AAAAAA` })],
    ["an expired token", async () => ({ authorization: `Bearer ${await issuer.token("alice-oid", audience, { expiresIn: -600 })}` })],
    ["a wrong audience", async () => ({ authorization: `Bearer ${await issuer.token("alice-oid", "api://another-app")}` })],
    ["a wrong issuer", async () => ({ authorization: `Bearer ${await issuer.token("alice-oid", audience, { issuer: "https://login.example/tenant/v2.0" })}` })],
    [
      "alg none",
      async () => ({
        authorization: `Bearer ${unsignedToken({ iss: issuer.issuer, aud: audience, oid: "alice-oid", exp: Math.floor(Date.now() / 1000) + 600 })}`,
      }),
    ],
  ])("answers %s with 401 unauthorized and a Bearer challenge, on every route", async (_name, headersOf) => {
    const headers: Record<string, string> = await headersOf();
    for (const [method, path, body] of [
      ["GET", "/api/plugins", undefined],
      ["POST", "/api/plugins/execute", { plugin: "echo", data: { text: "x" } }],
      ["POST", "/api/chat", { message: "/run echo x" }],
      ["GET", "/api/memory/audit/s1", undefined],
      ["GET", "/api/runs/r1", undefined],
      ["GET", "/api/openapi.json", undefined],
    ] as const) {
      const result = await call(method, path, { headers, body });
      expect(result.status, `${method} ${path}`).toBe(401);
      expect(result.body).toMatchObject({ status: "error", error: { code: "unauthorized" } });
      expect(result.headers.get("www-authenticate")).toMatch(/^Bearer/);
      if (headers.authorization) expect(result.text).not.toContain(headers.authorization.slice(7, 60));
    }
  });

  it("lets anyone read /api/health, which shows no caller data", async () => {
    const result = await call("GET", "/api/health");
    expect(result.status).toBe(200);
    expect(Object.keys(result.body).sort()).toEqual(["checks", "status", "version"]);
  });

  it("serves a caller with a valid token", async () => {
    const result = await as("alice").post("/api/plugins/execute", { plugin: "calculator", data: { expression: "2+3*4" } });
    expect(result.status).toBe(200);
    expect(result.body.result).toBe(14);
  });
});

describe("one principal never reaches another's data", () => {
  it("keeps two sessions with the same id apart: memory, audit, and the memory plugin", async () => {
    const sessionId = `shared-${Date.now()}`;
    const noted = await as("alice").post("/api/chat", { message: "/run memory note alice-secret", sessionId });
    expect(noted.status).toBe(200);

    const bobAudit = await as("bob").get(`/api/memory/audit/${sessionId}`);
    const unknownAudit = await as("bob").get(`/api/memory/audit/never-used-${Date.now()}`);
    expect(bobAudit.status).toBe(200);
    expect(bobAudit.body).toEqual({ sessionId, entries: [], nextCursor: null });
    expect({ ...unknownAudit.body, sessionId }).toEqual(bobAudit.body);

    const search = await as("bob").post("/api/plugins/execute", { plugin: "memory", data: { action: "search", query: "alice-secret" }, sessionId });
    expect(search.body.result).toEqual({ query: "alice-secret", matches: [] });
    const listed = await as("bob").post("/api/chat", { message: "/run memory list", sessionId });
    expect(listed.body.reply).not.toContain("alice-secret");
    const cleared = await as("bob").post("/api/chat", { message: "/run memory clear", sessionId });
    expect(cleared.status).toBe(200);

    const aliceMemory = await as("alice").post("/api/plugins/execute", { plugin: "memory", data: { action: "search", query: "alice-secret" }, sessionId });
    expect(aliceMemory.body.result.matches.map((m: any) => m.role)).toEqual(["user", "note", "assistant"]);
    const aliceAudit = await as("alice").get(`/api/memory/audit/${sessionId}`);
    expect(aliceAudit.body.entries.map((e: any) => e.type)).toEqual(["user_message", "plugin_run", "reply", "plugin_run"]);
    expect(JSON.stringify(aliceAudit.body)).not.toContain("memory clear");
    const bobTypes = (await as("bob").get(`/api/memory/audit/${sessionId}`)).body.entries.map((e: any) => e.type);
    expect(bobTypes).toEqual(["plugin_run", "user_message", "plugin_run", "reply", "user_message", "memory_cleared", "plugin_run", "reply"]);
  });

  it("keys a principal by its claim and issuer: a token with no oid whose sub is alice's oid reaches nothing of hers", async () => {
    const sessionId = `sub-as-oid-${Date.now()}`;
    expect((await as("alice").post("/api/chat", { message: "/run memory note alice-secret", sessionId })).status).toBe(200);
    const impostor = await issuer.token("unused", audience, { claims: { oid: undefined, sub: "alice-oid" } });

    const audit = await call("GET", `/api/memory/audit/${sessionId}`, { token: impostor });
    expect(audit.status).toBe(200);
    expect(audit.body).toEqual({ sessionId, entries: [], nextCursor: null });
    const search = await call("POST", "/api/plugins/execute", {
      token: impostor,
      body: { plugin: "memory", data: { action: "search", query: "alice-secret" }, sessionId },
    });
    expect(search.body.result).toEqual({ query: "alice-secret", matches: [] });
    expect((await as("alice").get(`/api/memory/audit/${sessionId}`)).body.entries).toHaveLength(3);
  });

  it("gives one user's v1 and v2 tokens (one tid and oid, two issuers) one principal: the same sessions", async () => {
    const sessionId = `v1-v2-${Date.now()}`;
    expect((await as("alice").post("/api/chat", { message: "/run memory note from-v2", sessionId })).status).toBe(200);
    const v1 = await issuer.token("alice-oid", "00000000-0000-0000-0000-00000000c0de", { issuer: issuer.v1Issuer });

    const audit = await call("GET", `/api/memory/audit/${sessionId}`, { token: v1 });
    expect(audit.status).toBe(200);
    expect(audit.body.entries.map((e: any) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
  });

  it("keeps runs apart: another's run id answers as an unknown one, and each may use the same id", async () => {
    const runId = `run-${Date.now()}`;
    const accepted = await as("alice").post("/api/plugins/execute", { plugin: "calculator", data: { expression: "17*23" }, async: true, runId });
    expect(accepted.status).toBe(202);
    const done = await settled("alice", runId);
    expect(done.body).toMatchObject({ state: "succeeded", result: 391 });

    const bobReads = await as("bob").get(`/api/runs/${runId}`);
    expect(bobReads.status).toBe(404);
    expect(bobReads.body.error.code).toBe("run_not_found");
    const unknownId = `never-${Date.now()}`;
    const unknown = await as("bob").get(`/api/runs/${unknownId}`);
    expect(bobReads.text.replaceAll(runId, "ID")).toBe(unknown.text.replaceAll(unknownId, "ID"));

    const bobSameId = await as("bob").post("/api/plugins/execute", { plugin: "echo", data: { text: "bob's" }, async: true, runId });
    expect(bobSameId.status).toBe(202);
    expect((await settled("bob", runId)).body).toMatchObject({ state: "succeeded", result: "bob's" });
    expect((await as("alice").get(`/api/runs/${runId}`)).body.result).toBe(391);
    const again = await as("alice").post("/api/plugins/execute", { plugin: "echo", data: { text: "x" }, async: true, runId });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("run_exists");
  });

  it("keeps cached results apart: a result one principal computed is no hit for another", async () => {
    const expression = `${Date.now()} * 3`;
    const first = await as("alice").post("/api/plugins/execute", { plugin: "calculator", data: { expression } });
    const second = await as("alice").post("/api/plugins/execute", { plugin: "calculator", data: { expression } });
    const bob = await as("bob").post("/api/plugins/execute", { plugin: "calculator", data: { expression } });
    expect([first.body.cached, second.body.cached, bob.body.cached]).toEqual([false, true, false]);
    expect(bob.body.result).toBe(first.body.result);
  });
});

describe("the plugin policy", () => {
  it('gives {"shell":{"roles":["admin"],"channels":["execute"]}}: unknown to a caller without admin, 200 to an admin on execute, 403 to the admin in chat', async () => {
    // Alice may run shell nowhere: she is answered exactly as for a name that does not exist, so its existence is not confirmed.
    const refused = await as("alice").post("/api/plugins/execute", { plugin: "shell", data: { command: "echo hello" } });
    const unknown = await as("alice").post("/api/plugins/execute", { plugin: "shelx", data: { command: "echo hello" } });
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual(JSON.parse(JSON.stringify(unknown.body).replaceAll("shelx", "shell")));
    expect(refused.body.error.details.available).not.toContain("shell");
    const allowed = await as("admin").post("/api/plugins/execute", { plugin: "shell", data: { command: "echo hello" } });
    expect(allowed.status).toBe(200);
    expect(allowed.body.result.stdout).toBe("hello\n");
    const chat = await as("admin").post("/api/chat", { message: "/run shell echo hello" });
    expect(chat.status).toBe(403);
    expect(chat.body.error.code).toBe("plugin_forbidden");
    const byAlias = await as("alice").post("/api/plugins/execute", { plugin: "openinterpreter", data: { command: "echo hello" } });
    expect(byAlias.body.error).toMatchObject({ code: "plugin_not_found", details: { plugin: "openinterpreter" } });
  });

  it("refuses before reading the input, and records the refusal in the caller's session", async () => {
    const sessionId = `refused-${Date.now()}`;
    const refused = await as("alice").post("/api/plugins/execute", { plugin: "shell", data: { nonsense: true }, sessionId });
    expect(refused.body.error.code).toBe("plugin_not_found");
    const audit = await as("alice").get(`/api/memory/audit/${sessionId}`);
    expect(audit.body.entries).toMatchObject([{ type: "plugin_run", plugin: "shell", outcome: "plugin_not_found" }]);
  });

  it("lists only what the caller may run, each with its channels", async () => {
    const alice = (await as("alice").get("/api/plugins")).body.plugins;
    const admin = (await as("admin").get("/api/plugins")).body.plugins;
    expect(alice.map((p: any) => p.name)).not.toContain("shell");
    expect(admin.find((p: any) => p.name === "shell").channels).toEqual(["execute"]);
    expect(alice.find((p: any) => p.name === "echo").channels).toEqual(["execute", "chat", "llm", "queue", "mcp"]);
  });

  it("shows in the OpenAPI document only the plugins the caller may run", async () => {
    const schemasOf = async (who: keyof typeof tokens) => Object.keys((await as(who).get("/api/openapi.json")).body.components.schemas);
    const alice = await schemasOf("alice");
    expect(alice).toContain("plugin.echo.input");
    expect(alice).not.toContain("plugin.shell.input");
    expect(await schemasOf("admin")).toContain("plugin.shell.input");
  });
});

describe("rate limits per principal", () => {
  let limited: LocalHost;
  let limitedServices: Services;

  beforeAll(async () => {
    ({ services: limitedServices, host: limited } = await startRateLimitedHost({
      AUTH_MODE: "jwt",
      AUTH_JWT_ISSUER: issuer.issuer,
      AUTH_JWT_AUDIENCE: audience,
      RATE_LIMIT_PER_MINUTE: "3",
    }));
  });

  afterAll(async () => {
    await limited?.close();
    await limitedServices?.close();
  });

  const post = async (token: string) => {
    const response = await fetch(`${limited.url}/api/plugins/execute`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ plugin: "echo", data: { text: "hi" } }),
    });
    return { status: response.status, retryAfter: response.headers.get("retry-after"), body: (await response.json()) as any };
  };

  it("answers a principal over its limit 429 with Retry-After, while another principal still gets 200", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(tokens.alice)).status);
    expect(statuses).toEqual([200, 200, 200]);
    const over = await post(tokens.alice);
    expect(over.status).toBe(429);
    expect(over.body.error.code).toBe("rate_limited");
    expect(Number(over.retryAfter)).toBeGreaterThanOrEqual(1);
    expect((await post(tokens.bob)).status).toBe(200);
    // Reads are not counted: GET routes stay open to the limited principal.
    const list = await fetch(`${limited.url}/api/plugins`, { headers: { authorization: `Bearer ${tokens.alice}` } });
    expect(list.status).toBe(200);
  });
});
