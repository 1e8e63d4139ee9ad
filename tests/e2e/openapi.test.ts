import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { pluginNames } from "../../plugins/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { HttpFunction } from "../../src/http/http_function.js";
import type { Services } from "../../src/services.js";
import { openApiProblems, schemaAt } from "../support/openapi.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi } from "../support/api_client.js";

/** GET /api/openapi.json over real HTTP (real Redis and Azurite), and the real answers of every route against it. */
let services: Services;
let host: LocalHost;
let document: any;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig({ MAX_BODY_BYTES: "4096" }) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  const served = await fetch(`${host.url}/api/openapi.json`);
  expect(served.status).toBe(200);
  expect(served.headers.get("content-type")).toMatch(/^application\/json/);
  document = await served.json();
});

afterAll(async () => {
  await host?.close();
  await services?.close();
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => callApi(host.url, method, path, { body, headers });

/** A Functions route template as an OpenAPI path below the `/api` server: `runs/{runId:int?}` is `/runs/{runId}`. */
function openApiPath(route: string): string {
  return `/${route.replace(/\{([^}:?]+)[^}]*\}/g, "{$1}")}`;
}

/** The function registered for a path of the document and a method. */
function functionAt(path: string, method: string): HttpFunction {
  const fn = httpFunctions.find((candidate) => openApiPath(candidate.route) === path && candidate.methods.some((m) => m.toLowerCase() === method));
  if (!fn) throw new Error(`no function for ${method} ${path}`);
  return fn;
}

/**
 * The answer is one the document lists for this operation and matches its schema there; and it
 * has no field the route's contract does not name (the document is generated from the contract's
 * zod schemas, which keep nothing else: a field the handlers add without declaring it fails here).
 */
function expectDocumented(method: string, path: string, answer: { status: number; body: unknown }) {
  const responses = document.paths[path][method].responses;
  expect(Object.keys(responses), `${method} ${path}`).toContain(String(answer.status));
  const pointer = `/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/responses/${answer.status}/content/application~1json/schema`;
  expect(schemaAt(document, pointer)(answer.body), `${method} ${path} ${answer.status}`).toEqual([]);
  const fn = functionAt(path, method);
  const schema = fn.contract.responses[answer.status]?.body ?? fn.errorFormat.body;
  expect(schema.parse(answer.body), `${method} ${path} ${answer.status}: undocumented fields`).toEqual(answer.body);
}

describe("GET /api/openapi.json", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(document.openapi).toBe("3.1.0");
    expect(await openApiProblems(document)).toEqual([]);
  });

  it("lists every registered route with its methods, and no other", () => {
    const registered = httpFunctions.flatMap((fn) => fn.methods.map((method) => `${method.toLowerCase()} ${openApiPath(fn.route)}`)).sort();
    const documented = Object.entries(document.paths as Record<string, object>)
      .flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`))
      .sort();
    expect(documented).toEqual(registered);
    expect(registered).toContain("get /openapi.json");
  });

  it("documents the MCP endpoint, with the x-session-id header and the rate limit on every method", () => {
    const item = document.paths["/mcp"];
    expect(Object.keys(item)).toEqual(["post", "get", "delete"]);
    expect(item.post.parameters).toEqual([
      expect.objectContaining({ in: "header", name: "x-session-id", schema: expect.objectContaining({ pattern: "^[A-Za-z0-9_-]{1,128}$" }) }),
    ]);
    expect(item.post.parameters[0].required).toBeFalsy();
    expect(Object.keys(item.post.responses)).toEqual(expect.arrayContaining(["200", "401", "403", "413", "429"]));
    expect(Object.keys(item.get.responses)).toEqual(expect.arrayContaining(["401", "429"]));
  });

  it("has each plugin's input schema, as GET /api/plugins shows it", async () => {
    const { body } = await call("GET", "/api/plugins");
    expect(body.plugins.map((plugin: any) => plugin.name).sort()).toEqual([...pluginNames].sort());
    for (const plugin of body.plugins) {
      const { $schema: _dialect, ...schema } = plugin.inputSchema;
      expect(document.components.schemas[`plugin.${plugin.name}.input`], plugin.name).toEqual(schema);
    }
  });

  it("is the same document on every request (built once per process)", async () => {
    const again = await call("GET", "/api/openapi.json");
    expect(again.text).toBe(JSON.stringify(document));
  });
});

describe("the answers of the API are the documented ones", () => {
  it("health, plugins, execute (sync and queued), runs, chat, audit", async () => {
    expectDocumented("get", "/health", await call("GET", "/api/health"));
    expectDocumented("get", "/health/live", await call("GET", "/api/health/live"));
    expectDocumented("get", "/plugins", await call("GET", "/api/plugins"));

    const sessionId = `openapi-${Date.now()}`;
    const executed = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+3*4" }, sessionId });
    expect(executed.status).toBe(200);
    expectDocumented("post", "/plugins/execute", executed);

    const queued = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "later" }, async: true });
    expect(queued.status).toBe(202);
    expectDocumented("post", "/plugins/execute", queued);
    expect(queued.headers.get("location")).toBe(queued.body.location);
    const run = await call("GET", queued.body.location);
    expect(run.status).toBe(200);
    expectDocumented("get", "/runs/{runId}", run);

    const chat = await call("POST", "/api/chat", { message: "/run echo hi", sessionId });
    expect(chat.status).toBe(200);
    expectDocumented("post", "/chat", chat);
    const streamed = await call("POST", "/api/chat", { message: "/run echo hi", sessionId, stream: true });
    expect(streamed.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(Object.keys(document.paths["/chat"].post.responses["200"].content)).toContain("text/event-stream");

    expectDocumented("get", "/v1/models", await call("GET", "/api/v1/models"));
    const completion = await call("POST", "/api/v1/chat/completions", { model: "codexcontinue", messages: [{ role: "user", content: "/run echo hi" }] });
    expect(completion.status).toBe(200);
    expectDocumented("post", "/v1/chat/completions", completion);

    const audit = await call("GET", `/api/memory/audit/${sessionId}?limit=2`);
    expect(audit.status).toBe(200);
    expect(audit.body.nextCursor).toEqual(expect.any(String));
    expectDocumented("get", "/memory/audit/{sessionId}", audit);
  });

  it("approvals: a request's 202, the list, a decision, its 409, the run and the timeline (AUTH_MODE=none: the local caller decides their own)", async () => {
    const approvalServices = integrationServices({ config: integrationConfig({ PLUGIN_POLICY: '{"echo":{"approval":{"roles":["admin"]}}}' }) });
    const approvalHost = await startLocalHost({ functions: httpFunctions, services: approvalServices, port: 0 });
    const callHere = (method: string, path: string, body?: unknown) => callApi(approvalHost.url, method, path, { body });
    try {
      const sessionId = `openapi-approval-${Date.now()}`;
      const requested = await callHere("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "later" }, sessionId });
      expect(requested.status).toBe(202);
      expectDocumented("post", "/plugins/execute", requested);
      expectDocumented("get", "/runs/{runId}", await callHere("GET", requested.body.location));
      const list = await callHere("GET", "/api/approvals");
      expect(list.body.approvals).toHaveLength(1);
      expectDocumented("get", "/approvals", list);
      const chat = await callHere("POST", "/api/chat", { message: "/run echo hi", sessionId });
      expect(chat.body.approval).toMatchObject({ state: "awaiting_approval" });
      expectDocumented("post", "/chat", chat);

      const denied = await callHere("POST", `/api/approvals/${requested.body.runId}`, { decision: "deny", reason: "not now" });
      expect(denied.status).toBe(200);
      expectDocumented("post", "/approvals/{runId}", denied);
      const again = await callHere("POST", `/api/approvals/${requested.body.runId}`, { decision: "approve" });
      expect(again.status).toBe(409);
      expectDocumented("post", "/approvals/{runId}", again);
      expectDocumented("get", "/runs/{runId}", await callHere("GET", requested.body.location));
      const audit = await callHere("GET", `/api/memory/audit/${sessionId}`);
      expect(audit.body.entries.map((entry: { type: string }) => entry.type)).toEqual(expect.arrayContaining(["approval_requested", "approval_decided"]));
      expectDocumented("get", "/memory/audit/{sessionId}", audit);
    } finally {
      await approvalHost.close();
      await approvalServices.close();
    }
  });

  it("the Responses API: a response, its event stream, and its errors in OpenAI's shape", async () => {
    const answered = await call("POST", "/api/v1/responses", { model: "codexcontinue", input: "/run echo hi" });
    expect(answered.status).toBe(200);
    expectDocumented("post", "/v1/responses", answered);
    expect(Object.keys(document.paths["/v1/responses"].post.responses["200"].content)).toContain("text/event-stream");
    expect(document.components.schemas.ResponseStreamEvent.oneOf ?? document.components.schemas.ResponseStreamEvent.anyOf).toHaveLength(10);
    for (const [body, status, code] of [
      [{ model: "codexcontinue", input: "hi", previous_response_id: "resp_1" }, 400, "invalid_request"],
      [{ model: "gpt-4o", input: "hi" }, 404, "model_not_found"],
      [{ model: "codexcontinue", input: "hello" }, 503, "llm_unavailable"],
      [{ model: "codexcontinue", input: "x".repeat(5000) }, 413, "payload_too_large"],
    ] as const) {
      const answer = await call("POST", "/api/v1/responses", body);
      expect(answer.status).toBe(status);
      expect(answer.body.error.code).toBe(code);
      expectDocumented("post", "/v1/responses", answer);
      expect(document.paths["/v1/responses"].post.responses[String(status)].description).toContain(`\`${code}\``);
    }
  });

  it.each([
    ["post", "/plugins/execute", "/api/plugins/execute", { plugin: "nothing-here", data: {} }, 404, "plugin_not_found"],
    ["post", "/plugins/execute", "/api/plugins/execute", { plugin: "calculator", data: { expression: 7 } }, 400, "invalid_input"],
    ["post", "/plugins/execute", "/api/plugins/execute", { plugin: "echo", data: { text: "x".repeat(5000) } }, 413, "payload_too_large"],
    ["post", "/chat", "/api/chat", { message: "" }, 400, "invalid_request"],
    ["post", "/chat", "/api/chat", { message: "hello" }, 503, "llm_unavailable"],
    ["get", "/runs/{runId}", "/api/runs/never-queued", undefined, 404, "run_not_found"],
    ["get", "/memory/audit/{sessionId}", "/api/memory/audit/s1?limit=0", undefined, 400, "invalid_request"],
    ["post", "/v1/chat/completions", "/api/v1/chat/completions", { model: "codexcontinue", messages: [] }, 400, "invalid_request"],
    ["post", "/v1/chat/completions", "/api/v1/chat/completions", { model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }, 404, "model_not_found"],
    [
      "post",
      "/v1/chat/completions",
      "/api/v1/chat/completions",
      { model: "codexcontinue", messages: [{ role: "user", content: "/run nothing-here x" }] },
      404,
      "plugin_not_found",
    ],
    [
      "post",
      "/v1/chat/completions",
      "/api/v1/chat/completions",
      { model: "codexcontinue", messages: [{ role: "user", content: "hello" }] },
      503,
      "llm_unavailable",
    ],
    [
      "post",
      "/v1/chat/completions",
      "/api/v1/chat/completions",
      { model: "codexcontinue", messages: [{ role: "user", content: "x".repeat(5000) }] },
      413,
      "payload_too_large",
    ],
  ])("%s %s answers a documented error (%s)", async (method, path, url, body, status, code) => {
    const answer = await call(method.toUpperCase(), url, body);
    expect(answer.status).toBe(status);
    expect(answer.body.error.code).toBe(code);
    expectDocumented(method, path, answer);
    expect(document.paths[path][method].responses[String(status)].description).toContain(`\`${code}\``);
  });
});
