import { randomUUID } from "node:crypto";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi } from "../support/api_client.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The local host's MCP server with AUTH_MODE=jwt: the same bearer token as every route, and the
 * tools each caller sees and may run decided by the plugin policy on the mcp channel.
 */
const audience = "api://codex-mcp-e2e";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
const tokens: Record<"alice" | "admin", string> = { alice: "", admin: "" };
const clients: Client[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const config = integrationConfig({
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: issuer.issuer,
    AUTH_JWT_AUDIENCE: audience,
    // echo: admins only, on every channel; agent: chat only, for everyone.
    PLUGIN_POLICY: '{"echo":{"roles":["admin"]},"agent":{"channels":["chat"]}}',
  });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  tokens.alice = await issuer.token("alice-oid", audience);
  tokens.admin = await issuer.token("admin-oid", audience, { claims: { roles: ["admin"] } });
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

afterAll(async () => {
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

const endpoint = () => new URL(`${host.url}/runtime/webhooks/mcp`);

async function connect(headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: "codexcontinue-tests", version: "1.0.0" });
  clients.push(client);
  await client.connect(new StreamableHTTPClientTransport(endpoint(), { requestInit: { headers } }));
  return client;
}

const as = (who: keyof typeof tokens, headers: Record<string, string> = {}) => connect({ authorization: `Bearer ${tokens[who]}`, ...headers });

const textOf = (result: any): string => result.content.map((block: any) => block.text).join("");

describe("MCP with AUTH_MODE=jwt", () => {
  it("answers a request without a token 401 with a Bearer challenge, as every route does, and the SDK client cannot connect", async () => {
    const initialize = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
    const plain = await callApi(host.url, "POST", "/runtime/webhooks/mcp", { body: initialize, headers: { accept: "application/json, text/event-stream" } });
    expect(plain.status).toBe(401);
    expect(plain.body).toMatchObject({ status: "error", error: { code: "unauthorized" } });
    expect(plain.headers.get("www-authenticate")).toMatch(/^Bearer/);

    const forged = await callApi(host.url, "POST", "/runtime/webhooks/mcp", { body: initialize, token: `${tokens.alice.slice(0, -6)}AAAAAA` });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toMatch(/invalid_token/);

    await expect(connect({})).rejects.toMatchObject({ code: 401, message: expect.stringMatching(/unauthorized/) });
  });

  it("with a token: lists only what the caller may run on mcp, and runs it as that caller", async () => {
    const client = await as("alice");
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("calculator");
    // echo needs the admin role; agent does not run on mcp at all.
    expect(names).not.toContain("echo");
    expect(names).not.toContain("agent");
    const result = await client.callTool({ name: "calculator", arguments: { expression: "2+3*4" } });
    expect(textOf(result)).toBe("14");
  });

  it("refuses a plugin the caller's policy forbids on mcp, which the caller was never offered", async () => {
    const client = await as("alice");
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/echo not found/);
  });

  it("offers and runs it for a caller whose role the policy names", async () => {
    const client = await as("admin");
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("echo");
    expect(names).not.toContain("agent");
    const result = await client.callTool({ name: "echo", arguments: { text: "hi" } });
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe("hi");
  });

  it("records a session's calls under the caller's own principal: another caller's session of that id reads empty", async () => {
    const sessionId = `mcp-${randomUUID()}`;
    const client = await as("alice", { "x-session-id": sessionId });
    await client.callTool({ name: "calculator", arguments: { expression: "6*7" } });
    const own = await callApi(host.url, "GET", `/api/memory/audit/${sessionId}`, { token: tokens.alice });
    expect(own.body.entries).toMatchObject([{ type: "plugin_run", plugin: "calculator", result: 42, outcome: "success" }]);
    const other = await callApi(host.url, "GET", `/api/memory/audit/${sessionId}`, { token: tokens.admin });
    expect(other.body.entries).toEqual([]);
  });
});
