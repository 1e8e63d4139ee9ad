import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createWorkerStandIn,
  driverReport,
  functionsBundle,
  importBundle,
  removeWorkerStandIn,
  runWithWorkerStandInAsync,
} from "../support/functions_worker.js";
import { modernRequest } from "../support/mcp_clients.js";
import { TestIssuer } from "../support/test_issuer.js";

/**
 * The Functions bundle's MCP endpoint, run the way the Functions host runs it: the worker's
 * programming model from @azure/functions, with HTTP streaming as the app enables it. The host
 * forwards each request's body to the worker's HTTP proxy (x-ms-invocation-id, x-forwarded-host
 * and -proto) and its headers in the invocation's trigger metadata, invokes the function, and the
 * library streams the answer back on the proxy's connection.
 */
const driver = `
const { randomUUID } = await import("node:crypto");
const { HttpRequest, InvocationContext } = (await import("@azure/functions")).default;
${importBundle()}
const registrations = globalThis.__registrations;
const model = globalThis.__programmingModel;
// What the worker asks when it starts: with HTTP streaming, the address of the library's proxy.
const { HttpUri } = await model.getCapabilities({});
const triggerOf = (metadata) => Object.values(metadata.bindings).find((b) => b.direction === "in" && b.type.endsWith("Trigger"));
const summary = registrations.map(({ metadata }) => ({ ...triggerOf(metadata), name: metadata.name }));

/** One request as the host sends it through the worker's proxy; the answer as the client reads it, chunk by chunk. */
async function viaHost(functionName, method, path, headers = {}, body, params = {}) {
  const registration = registrations.find((r) => r.metadata.name === functionName);
  const triggerName = Object.keys(registration.metadata.bindings).find((name) => registration.metadata.bindings[name].type === "httpTrigger");
  const invocationId = randomUUID();
  const forwarded = fetch(new URL(path, HttpUri), {
    method,
    headers: { "x-ms-invocation-id": invocationId, "x-forwarded-host": "app.azurewebsites.net", "x-forwarded-proto": "https" },
    body,
  });
  const requestHeaders = { host: "app.azurewebsites.net", ...headers };
  const invocation = model.getInvocationModel({
    invocationId,
    metadata: registration.metadata,
    request: { inputData: [{ name: triggerName, data: { http: {} } }], triggerMetadata: { Headers: { json: JSON.stringify(requestHeaders) }, ...Object.fromEntries(Object.entries(params).map(([name, value]) => [name, { string: value }])) } },
    log() {},
  });
  const { context, inputs } = await invocation.getArguments();
  const result = await invocation.invokeFunction(context, inputs, registration.callback);
  const [response] = await Promise.all([forwarded, invocation.getResponse(context, result)]);
  const chunks = [];
  for await (const chunk of response.body ?? []) chunks.push(Buffer.from(chunk).toString("utf8"));
  return { status: response.status, contentType: response.headers.get("content-type"), challenge: response.headers.get("www-authenticate"), chunks, text: chunks.join("") };
}

/** The same function called as a test calls a handler: a request whose body is a string, not a stream. */
async function direct(functionName, method, path, headers, body) {
  const registration = registrations.find((r) => r.metadata.name === functionName);
  const response = await registration.callback(
    new HttpRequest({ method, url: "https://app.azurewebsites.net" + path, headers, body: body === undefined ? undefined : { string: body } }),
    new InvocationContext({ functionName }),
  );
  // As the library sends it: a jsonBody as JSON, a body as it is.
  const text = response.jsonBody !== undefined ? JSON.stringify(response.jsonBody) : response.body === undefined ? "" : await new Response(response.body).text();
  return { status: response.status, text };
}

const calls = {};
const bearer = { authorization: "Bearer " + process.env.TOKEN };
const sessionId = "mcp-bundle-" + randomUUID();
const modern = JSON.parse(process.env.MODERN);
const legacyCall = JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "calculator", arguments: { expression: "1/0" } } });
calls.list = await viaHost("mcp", "POST", "/api/mcp", { ...modern.list.headers, ...bearer }, modern.list.body);
calls.calculator = await viaHost("mcp", "POST", "/api/mcp", { ...modern.call.headers, ...bearer, "x-session-id": sessionId }, modern.call.body);
calls.divideByZero = await viaHost("mcp", "POST", "/api/mcp", { "content-type": "application/json", accept: "application/json, text/event-stream", "mcp-protocol-version": "2025-06-18", ...bearer, "x-session-id": sessionId }, legacyCall);
calls.get = await viaHost("mcp", "GET", "/api/mcp", { accept: "text/event-stream", ...bearer });
calls.noToken = await viaHost("mcp", "POST", "/api/mcp", modern.list.headers, modern.list.body);
calls.metadata = await viaHost("mcp-resource-metadata", "GET", "/api/.well-known/oauth-protected-resource/mcp");
calls.audit = await viaHost("memory-audit", "GET", "/api/memory/audit/" + sessionId, bearer, undefined, { sessionId });
calls.direct = await direct("mcp", "POST", "/api/mcp", { ...modern.call.headers, ...bearer }, modern.call.body);
console.log(JSON.stringify({ summary, calls }));
process.exit(0);
`;

let nodePath: string;
let issuer: TestIssuer;
const audience = "api://codex-mcp-bundle";

beforeAll(async () => {
  nodePath = createWorkerStandIn();
  issuer = await TestIssuer.start();
});

afterAll(async () => {
  removeWorkerStandIn(nodePath);
  await issuer?.stop();
});

describe("the Functions bundle's MCP endpoint", () => {
  it("registers /api/mcp as an HTTP function (POST, GET, DELETE) and its metadata document, and no MCP tool trigger", async () => {
    const result = await run();
    expect(result.status, result.stderr).toBe(0);
    const { summary } = driverReport(result);
    expect(summary.find((s: any) => s.name === "mcp")).toMatchObject({
      type: "httpTrigger",
      route: "mcp",
      methods: ["POST", "GET", "DELETE"],
      authLevel: "anonymous",
    });
    expect(summary.find((s: any) => s.name === "mcp-resource-metadata")).toMatchObject({
      type: "httpTrigger",
      route: ".well-known/oauth-protected-resource/mcp",
      methods: ["GET"],
    });
    expect(summary.filter((s: any) => /^mcp/i.test(s.type))).toEqual([]);
    expect(readFileSync(functionsBundle, "utf8")).not.toMatch(/\.mcpTool\(/);
  });

  it("serves MCP through the worker's streaming proxy: a JSON answer, a stream of server-sent events, 405, the 401 challenge, the metadata and the timeline", async () => {
    const result = await run();
    expect(result.status, result.stderr).toBe(0);
    const { calls } = driverReport(result);
    // The 2026-07-28 revision, answered as one JSON body.
    expect(calls.list, calls.list.text).toMatchObject({ status: 200, contentType: "application/json" });
    const listed = JSON.parse(calls.list.text).result;
    expect(listed).toMatchObject({ ttlMs: expect.any(Number), cacheScope: "private" });
    expect(listed.tools.find((tool: any) => tool.name === "calculator")).toMatchObject({ title: "Calculator", annotations: { readOnlyHint: true } });
    expect(JSON.parse(calls.calculator.text).result.content).toEqual([{ type: "text", text: "14" }]);
    // A 2025-era client's call, answered as a stream of server-sent events.
    expect(calls.divideByZero).toMatchObject({ status: 200, contentType: "text/event-stream" });
    const event = JSON.parse(/^data: (.*)$/m.exec(calls.divideByZero.text)![1]!);
    expect(event.result).toMatchObject({ isError: true, content: [{ type: "text", text: expect.stringMatching(/^error \(invalid_input\): /) }] });
    // The SDK, not the host, answers what it does not serve.
    expect(calls.get.status).toBe(405);
    // In Azure the public address is the site's own (WEBSITE_HOSTNAME), not the Host a request names.
    expect(calls.noToken.status).toBe(401);
    expect(calls.noToken.challenge).toBe('Bearer resource_metadata="https://app.azurewebsites.net/api/.well-known/oauth-protected-resource/mcp"');
    expect(JSON.parse(calls.metadata.text)).toMatchObject({ resource: "https://app.azurewebsites.net/api/mcp", authorization_servers: [issuer.issuer] });
    // Both calls of the session, in its audit log under the caller's principal.
    expect(JSON.parse(calls.audit.text).entries).toMatchObject([
      { type: "plugin_run", plugin: "calculator", input: { expression: "2+3*4" }, result: 14, outcome: "success" },
      { type: "plugin_run", plugin: "calculator", input: { expression: "1/0" }, outcome: "invalid_input" },
    ]);
    // Without the proxy (a request whose body is no stream) the same function answers the same.
    expect(calls.direct.status).toBe(200);
    expect(JSON.parse(calls.direct.text).result.content).toEqual([{ type: "text", text: "14" }]);
  });
});

async function run() {
  const token = await issuer.token("alice-oid", audience);
  return runWithWorkerStandInAsync(nodePath, driver, {
    STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
    WEBSITE_INSTANCE_ID: "instance-1",
    WEBSITE_HOSTNAME: "app.azurewebsites.net",
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: issuer.issuer,
    AUTH_JWT_AUDIENCE: audience,
    TOKEN: token,
    MODERN: JSON.stringify({
      list: modernRequest(1, "tools/list"),
      call: modernRequest(2, "tools/call", { name: "calculator", arguments: { expression: "2+3*4" } }),
    }),
  });
}
