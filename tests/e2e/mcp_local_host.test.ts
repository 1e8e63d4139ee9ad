import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { mcpSdkLoaded } from "../../src/mcp/mcp_endpoint.js";
import { mcpServerName } from "../../src/mcp/mcp_server_info.js";
import type { Services } from "../../src/services.js";
import { callApi } from "../support/api_client.js";
import { mcpClientKinds, modernRequest, type McpTestClient } from "../support/mcp_clients.js";
import { processesWith, sleepMarker, waitFor } from "../support/processes.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The local host's MCP endpoint, /api/mcp, used by the official clients (the SDK's v2 on the
 * 2026-07-28 revision and on the 2025 handshake, and its 1.x), unmodified, over real HTTP, as an
 * MCP client such as VS Code would use it.
 */
let services: Services;
let host: LocalHost;
const clients: McpTestClient[] = [];

beforeAll(async () => {
  services = integrationServices({
    config: integrationConfig({
      // The MCP Inspector's page, which may connect from the browser directly.
      CORS_ALLOWED_ORIGINS: "http://localhost:6274",
      // shell on mcp too, to see a run stopped when its client leaves.
      SHELL_PLUGIN_ALLOWED_COMMANDS: "sleep",
      SHELL_PLUGIN_TIMEOUT_MS: "60000",
      PLUGIN_POLICY: '{"shell":{"channels":["execute","mcp"]}}',
    }),
  });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await host.close();
  await services.close();
});

const endpoint = () => new URL(`${host.url}/api/mcp`);
const textOf = (result: any): string => result.content.map((block: any) => block.text).join("");

describe("the MCP endpoint of the local host", () => {
  // First in this file: nothing before it has made an MCP request in this process.
  it("loads the SDK only on the first MCP request, not when the host starts or serves the API", async () => {
    expect(await callApi(host.url, "GET", "/api/health/live")).toMatchObject({ status: 200 });
    expect(await mcpSdkLoaded()).toBe(false);
    clients.push(await mcpClientKinds[0]!.connect(endpoint()));
    expect(await mcpSdkLoaded()).toBe(true);
  });
});

describe.each(mcpClientKinds)("with $name", (kind) => {
  async function connect(headers: Record<string, string> = {}): Promise<McpTestClient> {
    const client = await kind.connect(endpoint(), headers);
    clients.push(client);
    return client;
  }

  it("introduces itself with its name, the app's version and instructions", async () => {
    const client = (await connect()) as any;
    expect(client.getServerVersion()).toMatchObject({ name: mcpServerName, version: services.config.version });
    expect(client.getInstructions()).toMatch(/x-session-id/);
    expect(client.getServerCapabilities()?.tools).toBeDefined();
  });

  it("lists the plugins the caller may run on mcp, each with its title, all four annotations and its whole input schema", async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((tool) => [tool.name, tool]));
    // huggingface is disabled without HF_TOKEN; shell runs on mcp by this test's policy.
    expect(Object.keys(byName)).toEqual(["agent", "calculator", "echo", "memory", "shell"]);
    expect(byName.calculator).toMatchObject({
      title: "Calculator",
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    });
    expect(byName.memory.annotations).toEqual({ readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false });
    expect(byName.shell.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.agent.annotations).toMatchObject({ openWorldHint: true });
    // The memory tool's whole schema, as GET /api/plugins lists it: the action enum, the optional fields, no extra ones.
    const { $schema: _dialect, ...listed } = services.registry.describe().find((plugin) => plugin.name === "memory")!.inputSchema;
    expect(byName.memory.inputSchema).toEqual(listed);
    expect(byName.memory.inputSchema.properties.action.enum).toEqual(["list", "read", "search", "note", "clear"]);
    // A plugin whose result is an object with a schema says so; calculator's number has none.
    expect(byName.memory.outputSchema).toMatchObject({ type: "object", anyOf: expect.any(Array) });
    expect(byName.shell.outputSchema).toMatchObject({ type: "object", required: expect.arrayContaining(["exitCode", "stdout", "stderr"]) });
    expect(byName.calculator.outputSchema).toBeUndefined();
  });

  it("runs calculator: 2+3*4 is 14, as text", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "calculator", arguments: { expression: "2+3*4" } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe("14");
  });

  it("answers 1/0 with an isError result that names the error code, not a protocol error", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "calculator", arguments: { expression: "1/0" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^error \(invalid_input\): /);
    expect(result.structuredContent).toMatchObject({ error: { code: "invalid_input" } });
  });

  it("answers input that fails the plugin's schema with invalid_input and the issues, as a tool result", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "calculator", arguments: { expression: 42, extra: true } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^error \(invalid_input\): input for plugin "calculator" is not valid .*expression/);
  });

  it("answers a tool the caller is not offered as the SDK answers an unknown tool", async () => {
    const client = await connect();
    await expect(client.callTool({ name: "no_such_tool", arguments: {} })).rejects.toThrow(/no_such_tool not found/);
  });

  it("returns an object result as text and as structuredContent matching the tool's output schema, and records the calls in the x-session-id session", async () => {
    const sessionId = `mcp-${randomUUID()}`;
    const client = await connect({ "x-session-id": sessionId });
    const noted = await client.callTool({ name: "memory", arguments: { action: "note", text: "remember me" } });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    const read = await client.callTool({ name: "memory", arguments: { action: "read" } });
    expect(read.structuredContent).toMatchObject({ messages: [expect.objectContaining({ role: "note", content: "remember me" })] });
    expect(JSON.parse(textOf(read))).toEqual(read.structuredContent);
    await client.callTool({ name: "calculator", arguments: { expression: "1/0" } });
    const audit = await callApi(host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries).toMatchObject([
      { type: "plugin_run", plugin: "memory", input: { action: "note", text: "remember me" }, outcome: "success" },
      { type: "plugin_run", plugin: "memory", outcome: "success" },
      { type: "plugin_run", plugin: "calculator", input: { expression: "1/0" }, outcome: "invalid_input" },
    ]);
  });

  it("answers an x-session-id that is no session id with invalid_session_id, as a tool result", async () => {
    const client = await connect({ "x-session-id": "not a session id" });
    const result = await client.callTool({ name: "calculator", arguments: { expression: "1+1" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/^error \(invalid_session_id\): the x-session-id header/);
  });
});

describe("the MCP endpoint over plain HTTP", () => {
  it("is stateless: the SDK answers GET and DELETE (the 2025 revision's stream and session) 405", async () => {
    for (const method of ["GET", "DELETE"]) {
      const result = await callApi(host.url, method, "/api/mcp", { headers: { accept: "text/event-stream" } });
      expect(result.status, method).toBe(405);
      expect(result.body ?? JSON.parse(result.text)).toMatchObject({ jsonrpc: "2.0", error: { message: expect.stringMatching(/not allowed/i) } });
    }
  });

  it("lets the SDK answer a body that is no JSON with a JSON-RPC parse error, and a body over MAX_BODY_BYTES is refused 413 before it", async () => {
    const malformed = await callApi(host.url, "POST", "/api/mcp", { body: "{not json", headers: { accept: "application/json, text/event-stream" } });
    expect(malformed.status).toBe(400);
    expect(JSON.parse(malformed.text)).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 }, id: null });
    const huge = await callApi(host.url, "POST", "/api/mcp", {
      body: "x".repeat(services.config.http.maxBodyBytes + 1),
      headers: { accept: "application/json, text/event-stream" },
    });
    expect(huge.status).toBe(413);
    expect(huge.body).toMatchObject({ error: { code: "payload_too_large" } });
  });

  it("caches tools/list for the caller alone: a 2026-07-28 answer carries ttlMs and cacheScope private", async () => {
    const { headers, body } = modernRequest(1, "tools/list");
    const answer = await callApi(host.url, "POST", "/api/mcp", { headers, body });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).result).toMatchObject({ ttlMs: 300_000, cacheScope: "private", tools: expect.any(Array) });
  });

  it("refuses a page of another origin and a DNS-rebound Host before the SDK sees the request", async () => {
    const foreign = await callApi(host.url, "POST", "/api/mcp", { body: {}, headers: { origin: "http://evil.example" } });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ error: { code: "origin_not_allowed" } });
    // fetch sends its own Host: node:http sends the one a DNS-rebound page's browser would.
    const rebound = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(endpoint(), { method: "POST", headers: { host: "attacker.example", "content-type": "application/json" } }, (response) => {
        let body = "";
        response.on("data", (chunk: Buffer) => (body += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on("error", reject);
      request.end("{}");
    });
    expect(rebound.status).toBe(403);
    expect(JSON.parse(rebound.body)).toMatchObject({ error: { code: "host_not_allowed" } });
  });

  it("lets a listed origin's page in: a preflight naming MCP's headers and the session's, and CORS headers on the answer", async () => {
    const origin = "http://localhost:6274";
    const preflight = await fetch(endpoint(), {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "mcp-protocol-version, mcp-method, mcp-name, mcp-param-expression",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST, GET, DELETE, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/x-session-id, mcp-protocol-version, mcp-method, mcp-name.*mcp-param-expression/);
    const client = await mcpClientKinds[0]!.connect(endpoint(), { origin });
    clients.push(client);
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const { headers, body } = modernRequest(2, "tools/list");
    const answer = await callApi(host.url, "POST", "/api/mcp", { body, headers: { ...headers, origin } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
  });

  it("stops the run when its client leaves: a tools/call of a 30 s sleep, left after 200 ms, ends the sleep within a second", async () => {
    const marker = sleepMarker();
    const { headers, body } = modernRequest(3, "tools/call", { name: "shell", arguments: { command: `sleep ${marker}` } });
    const req = httpRequest(endpoint(), { method: "POST", agent: false, headers: { ...headers, "content-length": Buffer.byteLength(body) } });
    let answered = false;
    req.on("response", () => (answered = true));
    req.on("error", () => {});
    req.end(body);
    await waitFor(() => processesWith(marker).length > 0, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    req.destroy();
    const leftAt = Date.now();
    await waitFor(() => processesWith(marker).length === 0, 1000);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });
});
