import azureFunctions from "@azure/functions";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CalculatorPlugin } from "../../../plugins/calculator_plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";
import type { Authenticator } from "../../../src/auth/authenticator.js";
import { unauthorized } from "../../../src/auth/unauthorized.js";
import { createCaller, type Caller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import type { RateLimiter } from "../../../src/auth/rate_limiter.js";
import { InProcessResultCache } from "../../../src/cache/result_cache.js";
import { loadConfig } from "../../../src/config/config.js";
import { AppError } from "../../../src/errors/app_error.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { CallToolResultBlock, handleMcpToolTrigger } from "../../../src/mcp/azure_mcp_tool.js";
import { mcpToolsForSomeCaller, type McpToolDefinition } from "../../../src/mcp/mcp_tools.js";
import { BasePlugin, type AnyPlugin, type PluginEnvironment } from "../../../src/plugins/plugin.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import { PluginRunner } from "../../../src/plugins/plugin_runner.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";
import { RecordingApprovals } from "../../support/recording_approvals.js";

const { InvocationContext, McpContentBlock } = azureFunctions;

/** A plugin with a typed, non-string input and an object result. */
class StatsPlugin extends BasePlugin<{ values: number[]; round: boolean }, { count: number; mean: number }> {
  readonly name = "stats";
  readonly description = "Counts and averages numbers.";
  readonly inputSchema = z.strictObject({ values: z.array(z.number()).min(1), round: z.boolean() });
  async execute({ values, round }: { values: number[]; round: boolean }): Promise<{ count: number; mean: number }> {
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    return { count: values.length, mean: round ? Math.round(mean) : mean };
  }
}

class BrokenPlugin extends BasePlugin<Record<string, never>, never> {
  readonly name = "broken";
  readonly description = "Always fails.";
  readonly inputSchema = z.strictObject({});
  async execute(): Promise<never> {
    throw new Error("connection to 10.0.0.5 refused");
  }
}

const environment = { logger: silentLogger, settings: loadConfig({}).plugins.settings, agent: { run: async () => ({ reply: "", toolCalls: 0 }) } } as PluginEnvironment;
const alice = createCaller("user", "alice-oid");
const admin = createCaller("user", "admin-oid", ["admin"]);

/** Our own interfaces faked, the runner real: the authenticator knows two bearer tokens. */
function setUp(options: { rateLimited?: boolean } = {}) {
  const plugins: AnyPlugin[] = [new CalculatorPlugin(environment), new EchoPlugin(environment), new StatsPlugin(), new BrokenPlugin()];
  const registry = new PluginRegistry(plugins, 1000);
  const policy = PluginPolicy.create(plugins, { echo: { roles: ["admin"] } }, "jwt");
  const audit = new RecordingAuditLog();
  const runner = new PluginRunner(
    { registry, policy, memory: new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 }), audit, cache: new InProcessResultCache(), logger: silentLogger, approvals: new RecordingApprovals() },
    { defaultTimeoutMs: 1000, maxConcurrency: 4, maxQueue: 4 },
  );
  const callers: Record<string, Caller> = { "Bearer alice-token": alice, "Bearer admin-token": admin };
  const authenticator: Authenticator = {
    mode: "jwt",
    authenticate: async (headers) => {
      const caller = callers[headers.get("authorization") ?? ""];
      if (!caller) throw unauthorized("an Authorization: Bearer <token> header is required", false);
      return caller;
    },
  };
  const consumed: Caller[] = [];
  const rateLimiter: RateLimiter = {
    consume: async (caller) => {
      if (options.rateLimited) throw new AppError("rate_limited", "too many requests: at most 1 a minute; try again in 42 s", { details: { retryAfterSeconds: 42 } });
      consumed.push(caller);
    },
  };
  const services = { config: loadConfig({}), authenticator, runner, rateLimiter, logger: silentLogger };
  const tools = Object.fromEntries(mcpToolsForSomeCaller(registry, policy).map((tool) => [tool.name, tool])) as Record<string, McpToolDefinition>;
  /** A call as @azure/functions hands it to the handler: the extension's ToolInvocationContext as the trigger value. */
  const call = (tool: string, args: unknown, headers: Record<string, string>, triggerMetadata?: Record<string, unknown>) =>
    handleMcpToolTrigger(
      tools[tool]!,
      triggerMetadata ? undefined : { name: tool, arguments: args, sessionid: "extension-session", transport: { name: "http-streamable", properties: { headers } } },
      new InvocationContext({ functionName: `mcp-${tool}`, triggerMetadata }),
      services,
    );
  return { call, audit, consumed };
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}`, Host: "app.azurewebsites.net" });
const textOf = (block: CallToolResultBlock) => block.result.content.map((c) => c.text).join("");

describe("the Azure MCP tool handler", () => {
  it("authenticates the caller from the forwarded bearer token and answers the host a whole CallToolResult", async () => {
    const { call, consumed } = setUp();
    const block = await call("calculator", { expression: "2+3*4" }, bearer("alice-token"));
    expect(block).toBeInstanceOf(McpContentBlock);
    expect(block.type).toBe("call_tool_result");
    expect(JSON.parse(JSON.stringify(block))).toEqual({ content: [{ type: "text", text: "14" }] });
    expect(consumed).toEqual([alice]);
  });

  it("returns a JSON object result as text and structuredContent", async () => {
    const { call } = setUp();
    const block = await call("stats", { values: [1, 2, 4], round: false }, bearer("alice-token"));
    expect(block.result).toEqual({ content: [{ type: "text", text: '{"count":3,"mean":2.3333333333333335}' }], structuredContent: { count: 3, mean: 2.3333333333333335 } });
  });

  it("reads the headers and arguments from the trigger metadata too, keys camel-cased and values as strings", async () => {
    const { call, audit } = setUp();
    const triggerMetadata = {
      // As @azure/functions hands it over: every key's first letter lower-cased, header names included.
      mcptoolcontext: { name: "stats", transport: { name: "http-streamable", properties: { headers: { authorization: "Bearer alice-token", "x-Session-Id": "s-1" } } } },
      mcptoolargs: { values: "[2,4]", round: "true" },
    };
    const block = await call("stats", undefined, {}, triggerMetadata);
    expect(block.result).toMatchObject({ structuredContent: { count: 2, mean: 3 } });
    expect(audit.of(sessionRef(alice, "s-1"))).toMatchObject([{ type: "plugin_run", plugin: "stats", input: { values: [2, 4], round: true }, outcome: "success" }]);
  });

  it("records the call in the audit log of the session the x-session-id header names, under the caller's principal", async () => {
    const { call, audit } = setUp();
    await call("calculator", { expression: "1/0" }, { ...bearer("alice-token"), "X-Session-Id": "s-2" });
    expect(audit.of(sessionRef(alice, "s-2"))).toMatchObject([{ type: "plugin_run", plugin: "calculator", input: { expression: "1/0" }, outcome: "invalid_input" }]);
    expect(audit.of(sessionRef(admin, "s-2"))).toEqual([]);
  });

  it.each([
    ["no token", "calculator", { expression: "1+1" }, { Host: "app.azurewebsites.net" }, "unauthorized"],
    ["a page of another origin", "calculator", { expression: "1+1" }, { ...bearer("alice-token"), Origin: "http://evil.example" }, "origin_not_allowed"],
    ["a plugin the policy keeps from the caller", "echo", { text: "hi" }, bearer("alice-token"), "plugin_forbidden"],
    ["input the plugin's schema refuses", "stats", { values: [], round: "maybe" }, bearer("alice-token"), "invalid_input"],
    ["the plugin's own error", "calculator", { expression: "1/0" }, bearer("alice-token"), "invalid_input"],
    ["a plugin that throws", "broken", {}, bearer("alice-token"), "plugin_failed"],
    ["an x-session-id that is no session id", "calculator", { expression: "1+1" }, { ...bearer("alice-token"), "x-session-id": "a b" }, "invalid_session_id"],
  ])("answers %s with an isError result naming the code, never by throwing", async (_name, tool, args, headers, code) => {
    const { call } = setUp();
    const block = await call(tool, args, headers);
    expect(block.result.isError).toBe(true);
    expect(textOf(block)).toMatch(new RegExp(`^error \\(${code}\\): `));
    expect(block.result.structuredContent).toMatchObject({ error: { code } });
    expect(textOf(block)).not.toContain("10.0.0.5");
  });

  it("runs the forbidden plugin for a caller whose role the policy names", async () => {
    const { call } = setUp();
    expect(textOf(await call("echo", { text: "hi" }, bearer("admin-token")))).toBe("hi");
  });

  it("answers a caller over the rate limit with rate_limited before anything runs", async () => {
    const { call, audit } = setUp({ rateLimited: true });
    const block = await call("calculator", { expression: "1+1" }, { ...bearer("alice-token"), "x-session-id": "s-3" });
    expect(textOf(block)).toMatch(/^error \(rate_limited\): .*"retryAfterSeconds":42/);
    expect(audit.entries).toEqual([]);
  });
});
