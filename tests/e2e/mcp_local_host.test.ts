import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { mcpSdkLoaded } from "../../src/mcp/local_mcp_server.js";
import { mcpServerName } from "../../src/mcp/mcp_server_info.js";
import type { Services } from "../../src/services.js";
import { callApi } from "../support/api_client.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The local host as an MCP server, used by the official SDK's Client over its Streamable HTTP
 * transport, unmodified, over real HTTP, as an MCP client such as VS Code would use it.
 */
let services: Services;
let host: LocalHost;
const clients: Client[] = [];

beforeAll(async () => {
  // The MCP Inspector's page, which may connect from the browser directly.
  services = integrationServices({ config: integrationConfig({ CORS_ALLOWED_ORIGINS: "http://localhost:6274" }) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await host.close();
  await services.close();
});

const endpoint = () => new URL(`${host.url}/runtime/webhooks/mcp`);

async function connect(headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: "codexcontinue-tests", version: "1.0.0" });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(endpoint(), { requestInit: { headers } }));
  return client;
}

const textOf = (result: any): string => result.content.map((block: any) => block.text).join("");

describe("the MCP server of the local host", () => {
  // First in this file: nothing before it has made an MCP request in this process.
  it("loads the SDK only on the first MCP request, not when the host starts or serves the API", async () => {
    expect(await callApi(host.url, "GET", "/api/health/live")).toMatchObject({ status: 200 });
    expect(await mcpSdkLoaded()).toBe(false);
    await connect();
    expect(await mcpSdkLoaded()).toBe(true);
  });

  it("introduces itself with the name and instructions host.json gives the Functions MCP extension", async () => {
    const client = await connect();
    expect(client.getServerVersion()).toEqual({ name: mcpServerName, version: services.config.version });
    expect(client.getInstructions()).toMatch(/x-session-id/);
    expect(client.getServerCapabilities()?.tools).toBeDefined();
  });

  it("lists the plugins the caller may run on the mcp channel, each with its plugin's own object input schema", async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    // shell runs on execute and chat only by default (and is disabled without an allow-list); huggingface is disabled without HF_TOKEN.
    expect(names).toEqual(expect.arrayContaining(["agent", "calculator", "echo", "memory"]));
    expect(names).not.toContain("shell");
    expect(names).not.toContain("huggingface");
    for (const tool of tools) {
      expect(tool.inputSchema.type, tool.name).toBe("object");
      expect(typeof tool.description).toBe("string");
    }
    const calculator = tools.find((tool) => tool.name === "calculator")!;
    const listed = services.registry.describe().find((plugin) => plugin.name === "calculator")!.inputSchema;
    expect(calculator.inputSchema).toMatchObject({ type: "object", properties: listed.properties, required: ["expression"], additionalProperties: false });
  });

  it("runs calculator: 2+3*4 is 14, as text", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "calculator", arguments: { expression: "2+3*4" } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe("14");
    // A number is not an object: no structuredContent (MCP requires it to be one).
    expect(result.structuredContent).toBeUndefined();
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

  it("refuses an unknown tool as the SDK does", async () => {
    const client = await connect();
    const result = await client.callTool({ name: "no_such_tool", arguments: {} });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/no_such_tool not found/);
  });

  it("returns a JSON object result as text and as structuredContent", async () => {
    const sessionId = `mcp-${randomUUID()}`;
    const client = await connect({ "x-session-id": sessionId });
    const noted = await client.callTool({ name: "memory", arguments: { action: "note", text: "remember me" } });
    expect(noted.isError, textOf(noted)).toBeFalsy();
    const read = await client.callTool({ name: "memory", arguments: { action: "read" } });
    expect(read.structuredContent).toMatchObject({ messages: [expect.objectContaining({ content: "remember me" })] });
    expect(JSON.parse(textOf(read))).toEqual(read.structuredContent);
  });

  it("records the calls in the audit log of the session named by x-session-id", async () => {
    const sessionId = `mcp-${randomUUID()}`;
    const client = await connect({ "x-session-id": sessionId });
    await client.callTool({ name: "calculator", arguments: { expression: "2+3*4" } });
    await client.callTool({ name: "calculator", arguments: { expression: "1/0" } });
    const audit = await callApi(host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.status).toBe(200);
    expect(audit.body.entries).toMatchObject([
      { type: "plugin_run", plugin: "calculator", input: { expression: "2+3*4" }, result: 14, outcome: "success" },
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
  it("answers GET and DELETE 405 (stateless: no stream, no session), and a body that is no JSON with a JSON-RPC parse error", async () => {
    for (const method of ["GET", "DELETE"]) {
      const result = await callApi(host.url, method, "/runtime/webhooks/mcp", { headers: { accept: "text/event-stream" } });
      expect(result.status, method).toBe(405);
      expect(result.headers.get("allow")).toBe("POST");
    }
    const malformed = await callApi(host.url, "POST", "/runtime/webhooks/mcp", { body: "{not json", headers: { accept: "application/json, text/event-stream" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toMatchObject({ jsonrpc: "2.0", error: { code: -32700 }, id: null });
  });

  it("refuses a page of another origin and a DNS-rebound Host before the MCP server sees the request", async () => {
    const foreign = await callApi(host.url, "POST", "/runtime/webhooks/mcp", { body: {}, headers: { origin: "http://evil.example" } });
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
    const preflight = await fetch(endpoint(), { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("POST, OPTIONS");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/mcp-protocol-version.*x-session-id/);
    const client = await connect({ origin });
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    const answer = await callApi(host.url, "POST", "/runtime/webhooks/mcp", {
      body: { jsonrpc: "2.0", id: 1, method: "ping" },
      headers: { origin, accept: "application/json, text/event-stream" },
    });
    expect(answer.headers.get("access-control-allow-origin")).toBe(origin);
  });
});
