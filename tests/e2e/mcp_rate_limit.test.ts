import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi, type ApiAnswer } from "../support/api_client.js";
import { modernRequest } from "../support/mcp_clients.js";
import { TestIssuer } from "../support/test_issuer.js";
import { startRateLimitedHost } from "../support/rate_limited_host.js";

/**
 * Every MCP request counts toward its principal's rate limit, as every POST route does: tool
 * listings and protocol requests as well as tool calls, each once. Over the limit the local host
 * answers 429 with Retry-After and the standard error body, before the MCP server reads the request.
 */
const mcpPath = "/api/mcp";
const limit = 5;
const audience = "api://codex-mcp-rate-limit";
let issuer: TestIssuer;
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  issuer = await TestIssuer.start();
  ({ services, host } = await startRateLimitedHost({
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: issuer.issuer,
    AUTH_JWT_AUDIENCE: audience,
    RATE_LIMIT_PER_MINUTE: String(limit),
  }));
});

afterAll(async () => {
  await host?.close();
  await services?.close();
  await issuer?.stop();
});

/** A token of a principal of its own for each test, so that no test spends another's limit. */
const tokenOf = (name: string) => issuer.token(`${name}-${Math.random().toString(36).slice(2, 10)}`, audience);

let nextId = 1;

/** One request of the current revision; its JSON-RPC answer (the SDK answers JSON) as `body.result`. */
async function mcp(token: string, method: string, params: Record<string, unknown> = {}): Promise<ApiAnswer> {
  const { headers, body } = modernRequest(nextId++, method, params);
  return callApi(host.url, "POST", mcpPath, { token, body, headers });
}

function expectRateLimited(answer: ApiAnswer): void {
  expect(answer.status).toBe(429);
  expect(answer.body).toMatchObject({ status: "error", error: { code: "rate_limited", details: { limitPerMinute: limit } } });
  expect(Number(answer.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
}

describe("MCP requests and the rate limit", () => {
  it("limits a burst of tools/list from one principal: the first RATE_LIMIT_PER_MINUTE answered, the rest 429 with Retry-After", async () => {
    const token = await tokenOf("burst");
    const answers = await Promise.all(Array.from({ length: limit * 3 }, () => mcp(token, "tools/list")));
    const served = answers.filter((answer) => answer.status === 200);
    expect(served).toHaveLength(limit);
    for (const answer of served) expect(answer.body.result.tools.map((tool: { name: string }) => tool.name)).toContain("echo");
    const refused = answers.filter((answer) => answer.status !== 200);
    expect(refused).toHaveLength(limit * 2);
    for (const answer of refused) expectRateLimited(answer);
  });

  it("limits on MCP a principal already limited on a POST route, and not another principal", async () => {
    const [limited, other] = await Promise.all([tokenOf("limited"), tokenOf("other")]);
    const execute = () => callApi(host.url, "POST", "/api/plugins/execute", { token: limited, body: { plugin: "echo", data: { text: "x" } } });
    for (let i = 0; i < limit; i++) expect((await execute()).status).toBe(200);
    expectRateLimited(await execute());
    expectRateLimited(await mcp(limited, "tools/list"));
    expectRateLimited(await mcp(limited, "tools/call", { name: "echo", arguments: { text: "x" } }));
    const answer = await mcp(other, "tools/list");
    expect(answer.status).toBe(200);
    expect(answer.body.result.tools.length).toBeGreaterThan(0);
  });

  it("counts a tool call once, as one request", async () => {
    const token = await tokenOf("calls");
    for (let i = 0; i < limit; i++) {
      const answer = await mcp(token, "tools/call", { name: "echo", arguments: { text: `call ${i}` } });
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.result).toMatchObject({ content: [{ type: "text", text: `call ${i}` }] });
      expect(answer.body.result.isError).toBeFalsy();
    }
    expectRateLimited(await mcp(token, "tools/list"));
  });
});
