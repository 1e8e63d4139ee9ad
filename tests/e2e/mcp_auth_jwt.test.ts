import { randomUUID } from "node:crypto";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi } from "../support/api_client.js";
import { freePort } from "../support/free_port.js";
import { mcpClientKinds, modernRequest, type McpTestClient } from "../support/mcp_clients.js";
import { TestIssuer } from "../support/test_issuer.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { startRateLimitedHost } from "../support/rate_limited_host.js";

/**
 * The MCP endpoint with AUTH_MODE=jwt: the same bearer token as every route, a 401 that tells an
 * MCP client where to sign in (RFC 9728), the tools each caller sees and may run decided by the
 * plugin policy on the mcp channel, and every request counted by the rate limiter.
 */
const audience = "api://codex-mcp-e2e";
const scope = `${audience}/user_impersonation`;
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;
/** The address the host is configured to be known by: the local host's own (the default, HOST and PORT). */
let baseUrl: string;
const tokens: Record<"alice" | "admin", string> = { alice: "", admin: "" };
const clients: McpTestClient[] = [];

beforeAll(async () => {
  issuer = await TestIssuer.start();
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const config = integrationConfig({
    PORT: String(port),
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: issuer.issuer,
    AUTH_JWT_AUDIENCE: audience,
    AUTH_JWT_SCOPES: scope,
    // echo: admins only, on every channel; agent: chat only, for everyone.
    PLUGIN_POLICY: '{"echo":{"roles":["admin"]},"agent":{"channels":["chat"]}}',
  });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port });
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

const endpoint = () => new URL(`${host.url}/api/mcp`);
const textOf = (result: any): string => result.content.map((block: any) => block.text).join("");
const metadataUrl = () => `${baseUrl}/api/.well-known/oauth-protected-resource/mcp`;

describe("MCP sign-in discovery with AUTH_MODE=jwt", () => {
  it("answers a request without a token 401 with a Bearer challenge naming the resource metadata by the configured address, never the Host sent", async () => {
    const { headers, body } = modernRequest(1, "tools/list");
    const plain = await callApi(host.url, "POST", "/api/mcp", { body, headers: { ...headers, host: "attacker.example.localhost" } });
    expect(plain.status).toBe(401);
    expect(plain.body).toMatchObject({ status: "error", error: { code: "unauthorized" } });
    expect(plain.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl()}"`);

    const forged = await callApi(host.url, "POST", "/api/mcp", { body, headers, token: `${tokens.alice.slice(0, -6)}AAAAAA` });
    expect(forged.status).toBe(401);
    expect(forged.headers.get("www-authenticate")).toBe(`Bearer resource_metadata="${metadataUrl()}", error="invalid_token"`);

    // Every method is the caller's: GET and DELETE too, before the SDK answers them 405.
    expect((await callApi(host.url, "GET", "/api/mcp")).status).toBe(401);
  });

  it("serves the RFC 9728 metadata that the challenge names, to anyone: the endpoint as the resource, the issuer, header tokens, the scope", async () => {
    const metadata = await callApi(host.url, "GET", new URL(metadataUrl()).pathname);
    expect(metadata.status).toBe(200);
    expect(metadata.body).toEqual({
      resource: `${baseUrl}/api/mcp`,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ["header"],
      scopes_supported: [scope],
      resource_name: expect.any(String),
    });
  });

  it("is followed by the official v2 client, which reads the metadata and asks its auth provider for a token of that issuer and scope", async () => {
    const seen: { authorizationServer?: string; scope?: string } = {};
    // The SDK's own OAuth flow up to the point where a user would sign in at the issuer.
    const provider = {
      get redirectUrl() {
        return "http://127.0.0.1:1/callback";
      },
      get clientMetadata() {
        return { client_name: "codexcontinue-tests", redirect_uris: ["http://127.0.0.1:1/callback"] };
      },
      clientInformation: () => ({ client_id: "pre-registered-client" }),
      tokens: () => undefined,
      saveTokens: () => {},
      redirectToAuthorization: (url: URL) => {
        seen.authorizationServer = url.origin;
        seen.scope = url.searchParams.get("scope") ?? undefined;
      },
      saveCodeVerifier: () => {},
      codeVerifier: () => "verifier",
    };
    const client = new Client({ name: "codexcontinue-tests", version: "1.0.0" });
    const transport = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider as any });
    // Unauthorized until the user has signed in at the issuer and the client finishes the flow.
    await expect(client.connect(transport)).rejects.toThrow(/Unauthorized/);
    expect(seen.authorizationServer).toBe(new URL(issuer.issuer).origin);
    expect(seen.scope).toContain(scope);
  });
});

describe.each(mcpClientKinds)("MCP with AUTH_MODE=jwt and $name", (kind) => {
  const as = async (who: keyof typeof tokens, headers: Record<string, string> = {}) => {
    const client = await kind.connect(endpoint(), { authorization: `Bearer ${tokens[who]}`, ...headers });
    clients.push(client);
    return client;
  };

  it("cannot connect without a token", async () => {
    await expect(kind.connect(endpoint(), {})).rejects.toThrow(/401|nauthori/);
  });

  it("lists to each caller what it may run on mcp, and runs it as that caller", async () => {
    const alice = await as("alice");
    const names = (await alice.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain("calculator");
    // echo needs the admin role; agent does not run on mcp at all.
    expect(names).not.toContain("echo");
    expect(names).not.toContain("agent");
    expect(textOf(await alice.callTool({ name: "calculator", arguments: { expression: "2+3*4" } }))).toBe("14");
    // A tool it was never offered cannot be run.
    await expect(alice.callTool({ name: "echo", arguments: { text: "hi" } })).rejects.toThrow(/echo not found/);

    const admin = await as("admin");
    expect((await admin.listTools()).tools.map((tool) => tool.name)).toContain("echo");
    expect(textOf(await admin.callTool({ name: "echo", arguments: { text: "hi" } }))).toBe("hi");
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

describe("the MCP endpoint and the rate limit", () => {
  let limitedServices: Services;
  let limited: LocalHost;

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

  it("counts every request, whatever its method: past the limit 429 with Retry-After, while another principal is served", async () => {
    const burster = await issuer.token(`burst-${randomUUID()}`, audience);
    const other = await issuer.token(`other-${randomUUID()}`, audience);
    const { headers, body } = modernRequest(1, "tools/call", { name: "calculator", arguments: { expression: "1+1" } });
    const statuses: number[] = [];
    // A POST, a GET and a DELETE take the three requests of the minute; the fourth is over.
    statuses.push((await callApi(limited.url, "POST", "/api/mcp", { headers, body, token: burster })).status);
    statuses.push((await callApi(limited.url, "GET", "/api/mcp", { token: burster })).status);
    statuses.push((await callApi(limited.url, "DELETE", "/api/mcp", { token: burster })).status);
    const over = await callApi(limited.url, "POST", "/api/mcp", { headers, body, token: burster });
    expect(statuses).toEqual([200, 405, 405]);
    expect(over.status).toBe(429);
    expect(over.body).toMatchObject({ error: { code: "rate_limited" } });
    expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);

    const served = await callApi(limited.url, "POST", "/api/mcp", { headers, body, token: other });
    expect(served.status).toBe(200);
    expect(JSON.parse(served.text).result.content).toEqual([{ type: "text", text: "2" }]);
  });
});
