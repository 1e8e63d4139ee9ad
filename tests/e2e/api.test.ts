import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { pluginNames } from "../../plugins/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi } from "../support/api_client.js";

let services: Services;
let host: LocalHost;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig({ MAX_BODY_BYTES: "65536" }) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host.close();
  await services.close();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callApi(host.url, method, path, { body, headers });

function expectError(result: { status: number; body: any; text: string }, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.body).toMatchObject({ status: "error", error: { code, message: expect.any(String) } });
  expect(result.text).not.toMatch(/\bat .+\.(ts|js):\d+/);
}

describe("GET /api/health", () => {
  it("reports redis and storage up, and the version", async () => {
    const result = await call("GET", "/api/health");
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      status: "ok",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      checks: { redis: { status: "ok", kind: "redis" }, storage: { status: "ok" }, llm: { status: "not_configured" } },
    });
  });
});

describe("GET /api/health/live", () => {
  it("answers 200 with the version and nothing about any caller or dependency, uncached", async () => {
    const result = await call("GET", "/api/health/live");
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ status: "ok", version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(result.headers.get("cache-control")).toBe("no-store");
  });
});

describe("GET /api/plugins", () => {
  it("lists every plugin with its JSON Schema, aliases and timeout", async () => {
    const result = await call("GET", "/api/plugins");
    expect(result.status).toBe(200);
    const byName = Object.fromEntries(result.body.plugins.map((p: any) => [p.name, p]));
    expect(Object.keys(byName).sort()).toEqual([...pluginNames].sort());
    expect(byName.echo).toMatchObject({ aliases: ["test"], timeoutMs: 5000, inputSchema: { type: "object", required: ["text"] } });
    expect(byName.calculator.inputSchema.properties.expression.type).toBe("string");
    expect(typeof byName.memory.description).toBe("string");
  });
});

describe("POST /api/plugins/execute", () => {
  it("runs calculator: 2+3*4 is 14", async () => {
    const result = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+3*4" } });
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({ status: "success", plugin: "calculator", result: 14, durationMs: expect.any(Number), runId: expect.any(String) });
  });

  it("serves a repeated calculation from the result cache in Redis", async () => {
    const expression = `${Date.now()} * 2`;
    const first = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression } });
    const second = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression } });
    expect([first.body.cached, second.body.cached]).toEqual([false, true]);
    expect(second.body.result).toBe(first.body.result);
    const echo = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: expression } });
    const echoAgain = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: expression } });
    expect([echo.body.cached, echoAgain.body.cached]).toEqual([false, false]);
  });

  it("runs a plugin by its alias and reports the plugin's own name", async () => {
    const result = await call("POST", "/api/plugins/execute", { plugin: "test", data: { text: "hi" } });
    expect(result.body).toMatchObject({ status: "success", plugin: "echo", result: "hi" });
  });

  it("records a run with a sessionId in that session's audit log", async () => {
    const sessionId = `exec-${Date.now()}`;
    const run = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "6*7" }, sessionId });
    expect(run.body.result).toBe(42);
    const audit = await call("GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries).toMatchObject([
      { type: "plugin_run", plugin: "calculator", runId: run.body.runId, input: { expression: "6*7" }, result: 42, outcome: "success" },
    ]);
  });

  it("answers malformed JSON with 400 invalid_request", async () => {
    expectError(await call("POST", "/api/plugins/execute", "{not json"), 400, "invalid_request");
  });

  it("answers a wrong type and a missing field with 400 invalid_request naming the field", async () => {
    const wrongType = await call("POST", "/api/plugins/execute", { plugin: 42 });
    expectError(wrongType, 400, "invalid_request");
    expect(wrongType.body.error.details.issues[0].path).toBe("plugin");
    const missing = await call("POST", "/api/plugins/execute", { data: {} });
    expectError(missing, 400, "invalid_request");
    expect(missing.body.error.details.issues[0].path).toBe("plugin");
  });

  it("answers input that breaks the plugin's schema with 400 invalid_input", async () => {
    const result = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expr: "1" } });
    expectError(result, 400, "invalid_input");
    expect(result.body.error.details.plugin).toBe("calculator");
  });

  it("answers an expression the calculator cannot evaluate with 400 invalid_input and the position", async () => {
    const result = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+*3" } });
    expectError(result, 400, "invalid_input");
    expect(result.body.error.details.position).toBe(2);
  });

  it("answers an unknown plugin with 404 plugin_not_found", async () => {
    expectError(await call("POST", "/api/plugins/execute", { plugin: "nope", data: {} }), 404, "plugin_not_found");
  });

  it("answers an invalid session id with 400 invalid_session_id", async () => {
    expectError(await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "x" }, sessionId: "no spaces" }), 400, "invalid_session_id");
  });

  it("answers a body over the limit with 413 payload_too_large, declared or streamed", async () => {
    const big = JSON.stringify({ plugin: "echo", data: { text: "x".repeat(70_000) } });
    expectError(await call("POST", "/api/plugins/execute", big), 413, "payload_too_large");
    // Without a content-length (chunked), the limit is enforced while reading.
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(`${host.url}/api/plugins/execute`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error.code).toBe("payload_too_large");
  });
});

describe("POST /api/chat", () => {
  it("answers /run echo hello with hello, a new session id, and an audit timeline", async () => {
    const chat = await call("POST", "/api/chat", { message: "/run echo hello" });
    expect(chat.status).toBe(200);
    expect(chat.body).toMatchObject({
      sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
      reply: "hello",
      source: "plugin",
      plugin: "echo",
      result: "hello",
    });

    const audit = await call("GET", `/api/memory/audit/${chat.body.sessionId}`);
    expect(audit.status).toBe(200);
    expect(audit.body.sessionId).toBe(chat.body.sessionId);
    expect(audit.body.entries.map((e: any) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
    expect(audit.body.entries[0]).toMatchObject({ content: "/run echo hello" });
    expect(audit.body.entries[2]).toMatchObject({ content: "hello", source: "plugin", plugin: "echo" });
    expect(audit.body.nextCursor).toBeNull();
  });

  it("keeps a conversation in Redis session memory across requests", async () => {
    const first = await call("POST", "/api/chat", { message: "/run memory note remember 7" });
    const sessionId = first.body.sessionId;
    const read = await call("POST", "/api/chat", { message: "/run memory read", sessionId });
    expect(read.body.reply).toContain("note: remember 7");
    expect(read.body.reply).toContain("assistant: Noted: remember 7");
  });

  it("clears a session's memory through the memory plugin, and the audit timeline keeps everything", async () => {
    const first = await call("POST", "/api/chat", { message: "/run memory note secret plan" });
    const sessionId = first.body.sessionId;
    const cleared = await call("POST", "/api/chat", { message: "/run memory clear", sessionId });
    expect(cleared.body.reply).toMatch(/^Cleared \d+ messages/);
    const listed = await call("POST", "/api/chat", { message: "/run memory list", sessionId });
    expect(listed.body.reply).not.toContain("secret plan");
    const audit = await call("GET", `/api/memory/audit/${sessionId}`);
    const types = audit.body.entries.map((e: any) => e.type);
    expect(types).toContain("memory_cleared");
    expect(audit.body.entries.find((e: any) => e.type === "user_message").content).toBe("/run memory note secret plan");
  });

  it("answers free text with 503 llm_unavailable, and the message is still audited", async () => {
    const sessionId = `llm-${Date.now()}`;
    const chat = await call("POST", "/api/chat", { message: "what is the weather?", sessionId });
    expectError(chat, 503, "llm_unavailable");
    expect(chat.body.error.details.sessionId).toBe(sessionId);
    const audit = await call("GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.map((e: any) => [e.type, e.content ?? e.outcome])).toEqual([
      ["user_message", "what is the weather?"],
      ["reply", "llm_unavailable"],
    ]);
  });

  it.each([
    ["malformed JSON", "{", 400, "invalid_request"],
    ["a missing message", {}, 400, "invalid_request"],
    ["an empty message", { message: "  " }, 400, "invalid_request"],
    ["a message of the wrong type", { message: 5 }, 400, "invalid_request"],
    ["an invalid session id", { message: "/run echo x", sessionId: "../etc" }, 400, "invalid_session_id"],
    ["an unknown plugin", { message: "/run nope x" }, 404, "plugin_not_found"],
    ["a bad calculator expression", { message: "/run calculator 1/0" }, 400, "invalid_input"],
  ] as const)("answers %s with %i %s", async (_label, body, status, code) => {
    expectError(await call("POST", "/api/chat", body), status, code);
  });
});

describe("GET /api/memory/audit/{sessionId}", () => {
  it("pages a long timeline oldest first with limit and an opaque cursor", async () => {
    const sessionId = `page-${Date.now()}`;
    for (let i = 1; i <= 4; i++) await call("POST", "/api/chat", { message: `/run echo ${i}`, sessionId });
    const seen: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=5&cursor=${encodeURIComponent(cursor)}` : "?limit=5";
      const page = await call("GET", `/api/memory/audit/${sessionId}${query}`);
      expect(page.status).toBe(200);
      expect(page.body.entries.length).toBeLessThanOrEqual(5);
      seen.push(...page.body.entries);
      cursor = page.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(12);
    expect(seen.filter((e) => e.type === "user_message").map((e) => e.content)).toEqual(["/run echo 1", "/run echo 2", "/run echo 3", "/run echo 4"]);
    const ids = seen.map((e) => e.id);
    expect([...ids].sort()).toEqual(ids);
  });

  it("answers an unknown session with an empty timeline", async () => {
    const result = await call("GET", "/api/memory/audit/never-seen-session");
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ sessionId: "never-seen-session", entries: [], nextCursor: null });
  });

  it.each([
    ["an invalid session id", "/api/memory/audit/bad%20id", 400, "invalid_session_id"],
    ["a session id that is too long", `/api/memory/audit/${"a".repeat(129)}`, 400, "invalid_session_id"],
    ["limit=0", "/api/memory/audit/s?limit=0", 400, "invalid_request"],
    ["limit=abc", "/api/memory/audit/s?limit=abc", 400, "invalid_request"],
    ["limit over the maximum", "/api/memory/audit/s?limit=1000", 400, "invalid_request"],
    ["a forged cursor", "/api/memory/audit/s?cursor=Zm9v", 400, "invalid_request"],
  ] as const)("answers %s with %i %s", async (_label, path, status, code) => {
    expectError(await call("GET", path), status, code);
  });
});

describe("the local host", () => {
  it("answers unknown routes with 404 not_found and wrong methods with 405 and Allow", async () => {
    expectError(await call("GET", "/api/nothing-here"), 404, "not_found");
    const wrong = await call("DELETE", "/api/plugins");
    expectError(wrong, 405, "method_not_allowed");
    expect(wrong.headers.get("allow")).toBe("GET");
  });

  it("keeps serving after every kind of bad request", async () => {
    await Promise.all([
      call("POST", "/api/chat", "{"),
      call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "(".repeat(500) } }),
      call("GET", "/api/memory/audit/%ZZ"),
    ]);
    const result = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2^10" } });
    expect(result.body.result).toBe(1024);
  });
});
