import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createWorkerStandIn, driverReport, functionsBundle, importBundle, removeWorkerStandIn, runWithWorkerStandIn } from "../support/functions_worker.js";

const driver = (bundle: string) => `
const { HttpRequest, InvocationContext } = (await import("@azure/functions")).default;
${importBundle(bundle)}
const registrations = globalThis.__registrations;
const summary = registrations.map(({ metadata }) => {
  const trigger = Object.values(metadata.bindings).find((b) => b.direction === "in" && b.type.endsWith("Trigger"));
  return trigger.type === "httpTrigger"
    ? { name: metadata.name, type: trigger.type, route: trigger.route, methods: trigger.methods, authLevel: trigger.authLevel }
    : { name: metadata.name, type: trigger.type, queueName: trigger.queueName, connection: trigger.connection };
});
const byName = (name) => registrations.find((r) => r.metadata.name === name).callback;
const response = await byName("plugins-execute")(
  new HttpRequest({ method: "POST", url: "http://localhost/api/plugins/execute", body: { string: JSON.stringify({ plugin: "calculator", data: { expression: "2+3*4" } }) } }),
  new InvocationContext({ functionName: "plugins-execute" }),
);
// The OpenAI-compatible route, whose errors (the wrapper's 401 included) are in OpenAI's shape in the Functions host too.
const completion = await byName("openai-chat-completions")(
  new HttpRequest({ method: "POST", url: "http://localhost/api/v1/chat/completions", body: { string: JSON.stringify({ model: "codexcontinue", messages: [{ role: "user", content: "/run calculator 2+3*4" }] }) } }),
  new InvocationContext({ functionName: "openai-chat-completions" }),
);
const responses = await byName("openai-responses")(
  new HttpRequest({ method: "POST", url: "http://localhost/api/v1/responses", body: { string: JSON.stringify({ model: "codexcontinue", input: "/run calculator 2+3*4" }) } }),
  new InvocationContext({ functionName: "openai-responses" }),
);
// A page of another site posting text/plain (no preflight): refused before anything runs, in the Functions host too.
const foreign = await byName("chat")(
  new HttpRequest({ method: "POST", url: "http://localhost/api/chat", headers: { origin: "http://evil.example", host: "localhost", "content-type": "text/plain" }, body: { string: JSON.stringify({ message: "/run echo hi" }) } }),
  new InvocationContext({ functionName: "chat" }),
);
// A queue message as the worker hands it over (JSON already parsed), then the run read back over HTTP.
const runId = "bundle-" + Date.now() + "-" + Math.floor(Math.random() * 1e9);
const queued = await byName("plugin-runs")(
  { runId, plugin: "calculator", data: { expression: "2+3*4" } },
  new InvocationContext({ functionName: "plugin-runs", triggerMetadata: { id: "message-" + runId, dequeueCount: 1 } }),
);
const run = await byName("runs-get")(
  new HttpRequest({ method: "GET", url: "http://localhost/api/runs/" + runId, params: { runId } }),
  new InvocationContext({ functionName: "runs-get" }),
);
// The console page, read from dist/console beside the bundle on the first request.
const page = await byName("console")(
  new HttpRequest({ method: "GET", url: "http://localhost/api/console" }),
  new InvocationContext({ functionName: "console" }),
);
const pageHeaders = new Headers(page.headers);
console.log(JSON.stringify({
  summary,
  consolePage: { status: page.status, contentType: pageHeaders.get("content-type"), csp: pageHeaders.get("content-security-policy"), html: Buffer.from(page.body ?? []).toString("utf8") },
  response: { status: response.status ?? 200, body: response.jsonBody },
  completion: { status: completion.status ?? 200, body: completion.jsonBody },
  responses: { status: responses.status ?? 200, body: responses.jsonBody },
  foreign: { status: foreign.status, body: foreign.jsonBody },
  queued: queued ?? null,
  run: { status: run.status ?? 200, body: run.jsonBody, runId },
  hooks: globalThis.__hooks ?? [],
}));
process.exit(0);
`;

let nodePath: string;

beforeAll(() => {
  nodePath = createWorkerStandIn();
});

afterAll(() => removeWorkerStandIn(nodePath));

const runNode = (script: string, env: Record<string, string> = {}) => runWithWorkerStandIn(nodePath, script, env);

/** Loading the bundle alone, as the worker does at start. */
const loadOnly = () => importBundle();

describe("the Functions bundle (package.json main)", () => {
  it("registers the HTTP functions with their routes and the plugin-runs queue trigger, and runs the same handlers", () => {
    const result = runNode(driver(functionsBundle), { STORAGE_CONNECTION_STRING: inject("storageConnectionString") });
    expect(result.stderr).not.toMatch(/test mode/);
    expect(result.status, result.stderr).toBe(0);
    const { summary, response, completion, responses, queued, run, foreign, hooks, consolePage } = driverReport(result);
    expect(consolePage).toMatchObject({ status: 200, contentType: "text/html; charset=utf-8", csp: expect.stringContaining("default-src 'self'") });
    expect(consolePage.html).toMatch(/<script type="module" crossorigin src="\/api\/console\/assets\/index-[\w-]+\.js"><\/script>/);
    // Without APPLICATIONINSIGHTS_CONNECTION_STRING no telemetry hook is registered (see the telemetry case below).
    expect(hooks).not.toContain("preInvocation");
    expect(foreign).toMatchObject({ status: 403, body: { error: { code: "origin_not_allowed" } } });
    // The MCP endpoint is checked through the worker's invocation path in mcp_functions_bundle.test.ts.
    expect(summary).toEqual([
      { name: "health", type: "httpTrigger", route: "health", methods: ["GET"], authLevel: "anonymous" },
      { name: "health-live", type: "httpTrigger", route: "health/live", methods: ["GET"], authLevel: "anonymous" },
      { name: "plugins-list", type: "httpTrigger", route: "plugins", methods: ["GET"], authLevel: "anonymous" },
      { name: "plugins-execute", type: "httpTrigger", route: "plugins/execute", methods: ["POST"], authLevel: "anonymous" },
      { name: "chat", type: "httpTrigger", route: "chat", methods: ["POST"], authLevel: "anonymous" },
      { name: "memory-audit", type: "httpTrigger", route: "memory/audit/{sessionId}", methods: ["GET"], authLevel: "anonymous" },
      { name: "runs-get", type: "httpTrigger", route: "runs/{runId}", methods: ["GET"], authLevel: "anonymous" },
      { name: "approvals-list", type: "httpTrigger", route: "approvals", methods: ["GET"], authLevel: "anonymous" },
      { name: "approvals-decide", type: "httpTrigger", route: "approvals/{runId}", methods: ["POST"], authLevel: "anonymous" },
      { name: "openapi", type: "httpTrigger", route: "openapi.json", methods: ["GET"], authLevel: "anonymous" },
      { name: "openai-models", type: "httpTrigger", route: "v1/models", methods: ["GET"], authLevel: "anonymous" },
      { name: "openai-chat-completions", type: "httpTrigger", route: "v1/chat/completions", methods: ["POST"], authLevel: "anonymous" },
      { name: "openai-responses", type: "httpTrigger", route: "v1/responses", methods: ["POST"], authLevel: "anonymous" },
      { name: "mcp", type: "httpTrigger", route: "mcp", methods: ["POST", "GET", "DELETE"], authLevel: "anonymous" },
      { name: "mcp-resource-metadata", type: "httpTrigger", route: ".well-known/oauth-protected-resource/mcp", methods: ["GET"], authLevel: "anonymous" },
      { name: "console", type: "httpTrigger", route: "console", methods: ["GET"], authLevel: "anonymous" },
      { name: "console-asset", type: "httpTrigger", route: "console/assets/{asset}", methods: ["GET"], authLevel: "anonymous" },
      { name: "plugin-runs", type: "queueTrigger", queueName: "plugin-runs", connection: "AzureWebJobsStorage" },
    ]);
    expect(response).toMatchObject({ status: 200, body: { status: "success", plugin: "calculator", result: 14 } });
    expect(completion).toMatchObject({ status: 200, body: { object: "chat.completion", choices: [{ message: { content: "14" } }] } });
    expect(responses).toMatchObject({
      status: 200,
      body: { object: "response", status: "completed", output: [{ content: [{ type: "output_text", text: "14" }] }] },
    });
    // The queue handler returns nothing when the run is done; the run is then readable over HTTP.
    expect(queued).toBeNull();
    expect(run).toMatchObject({ status: 200, body: { runId: run.runId, plugin: "calculator", state: "succeeded", result: 14 } });
  });

  it("in Azure: raises the caller functions to HTTP_AUTH_LEVEL, keeps health and the console page anonymous, and answers a call without a token 401", () => {
    const result = runNode(driver(functionsBundle), {
      STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
      WEBSITE_INSTANCE_ID: "instance-1",
      AUTH_MODE: "jwt",
      AUTH_JWT_ISSUER: "https://login.microsoftonline.com/tenant/v2.0",
      AUTH_JWT_AUDIENCE: "api://codex",
      HTTP_AUTH_LEVEL: "function",
    });
    expect(result.status, result.stderr).toBe(0);
    const { summary, response, completion, responses, run } = driverReport(result);
    const levels = Object.fromEntries(summary.filter((s: any) => s.type === "httpTrigger").map((s: any) => [s.name, s.authLevel]));
    expect(levels).toEqual({
      health: "anonymous",
      "health-live": "anonymous",
      "plugins-list": "function",
      "plugins-execute": "function",
      chat: "function",
      "memory-audit": "function",
      "runs-get": "function",
      "approvals-list": "function",
      "approvals-decide": "function",
      openapi: "function",
      "openai-models": "function",
      "openai-chat-completions": "function",
      "openai-responses": "function",
      mcp: "function",
      "mcp-resource-metadata": "anonymous",
      console: "anonymous",
      "console-asset": "anonymous",
    });
    expect(response).toMatchObject({ status: 401, body: { status: "error", error: { code: "unauthorized" } } });
    expect(completion).toMatchObject({ status: 401, body: { error: { type: "authentication_error", code: "unauthorized", param: null } } });
    expect(responses).toMatchObject({ status: 401, body: { error: { type: "authentication_error", code: "unauthorized", param: null } } });
    expect(run.status).toBe(401);
  });

  it("with APPLICATIONINSIGHTS_CONNECTION_STRING: starts telemetry in the bundle, hooks the host's trace context in, and serves as before", () => {
    const result = runNode(driver(functionsBundle), {
      STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
      // Nothing listens there: the export fails quietly, as it must never fail a request.
      APPLICATIONINSIGHTS_CONNECTION_STRING: "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/",
      APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
      // Statsbeat off entirely (the exporter reads this older name for its essential part): nothing leaves the machine.
      APPLICATION_INSIGHTS_NO_STATSBEAT: "true",
    });
    expect(result.status, result.stderr).toBe(0);
    const { response, run, hooks } = driverReport(result);
    expect(hooks).toEqual(expect.arrayContaining(["preInvocation", "log"]));
    expect(response).toMatchObject({ status: 200, body: { status: "success", result: 14 } });
    expect(run).toMatchObject({ status: 200, body: { state: "succeeded", result: 14 } });
  });

  it("refuses to load in Azure without AUTH_MODE, or with AUTH_MODE=none", () => {
    for (const mode of [undefined, "none"]) {
      const result = runNode(loadOnly(), {
        STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
        WEBSITE_INSTANCE_ID: "instance-1",
        ...(mode ? { AUTH_MODE: mode } : {}),
      });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/AUTH_MODE/);
    }
  });

  it("fails to load with one readable message when no storage is configured", () => {
    const result = runNode(loadOnly());
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/STORAGE_CONNECTION_STRING .* or STORAGE_ACCOUNT_NAME .* must be set/);
  });
});
