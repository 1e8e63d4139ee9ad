import azureFunctions, { type InvocationContext } from "@azure/functions";
import { requestCaller } from "../http/request_caller.js";
import type { Services } from "../services.js";
import { callMcpTool, mcpToolError, type McpToolResult } from "./mcp_tool_call.js";
import { coerceArguments, type McpToolDefinition } from "./mcp_tools.js";
import { sessionIdHeader } from "../memory/session_id.js";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { McpContentBlock } = azureFunctions;

/**
 * A whole MCP CallToolResult handed to the Functions MCP extension as it is. The extension reads a
 * tool function's result of type `call_tool_result` as the CallToolResult itself (its content,
 * `structuredContent` and `isError`), the contract its .NET worker SDK uses too. @azure/functions
 * sends a single content block as `{type, content: JSON of the block}`, so this block, whose type is
 * that one and whose JSON is the result, reaches the extension as exactly that; its own
 * McpToolResponse has no way to say `isError`.
 */
export class CallToolResultBlock extends McpContentBlock {
  readonly type = "call_tool_result";

  constructor(readonly result: McpToolResult) {
    super();
  }

  toJSON(): Record<string, unknown> {
    return { ...this.result };
  }
}

/** What the handler needs of the services: the same authenticator, runner, limiter and origin policy as every route. */
export type McpToolServices = Pick<Services, "config" | "authenticator" | "runner" | "rateLimiter" | "logger">;

/**
 * An MCP tool trigger's invocation, as @azure/functions hands it over: the trigger value is the
 * extension's ToolInvocationContext (`name`, `arguments`, `sessionid`, `transport`), and
 * `triggerMetadata` carries the same as `mcptoolcontext` (keys camel-cased by the library) and the
 * arguments as strings in `mcptoolargs`. The request's headers are the transport's:
 * `transport.properties.headers`, present with the Streamable HTTP transport.
 *
 * The caller is authenticated from those headers by the same authenticator as every route (a
 * bearer token in jwt mode; App Service Authentication's headers in easyauth mode) after the same
 * Origin check, counted against the caller's rate limit, and the call runs through the runner on
 * the mcp channel. Every failure, refusals included (`rate_limited` over the limit), comes back as
 * an `isError` result; the function never throws.
 */
export async function handleMcpToolTrigger(
  tool: McpToolDefinition,
  toolArguments: unknown,
  context: InvocationContext,
  services: McpToolServices,
): Promise<CallToolResultBlock> {
  const logger = services.logger.child({ function: `mcp-${tool.name}`, invocationId: context.invocationId });
  const invocation = readInvocation(toolArguments, context);
  try {
    const caller = await requestCaller(invocation.headers, services);
    // The extension answers listings itself; each call that reaches the app counts once, as a POST does.
    await services.rateLimiter.consume(caller);
    const result = await callMcpTool(
      { runner: services.runner, logger },
      {
        caller,
        tool: tool.name,
        arguments: coerceArguments(tool.inputSchema, invocation.arguments),
        sessionId: invocation.headers.get(sessionIdHeader) ?? undefined,
      },
    );
    return new CallToolResultBlock(result);
  } catch (error) {
    return new CallToolResultBlock(mcpToolError(error, logger));
  }
}

interface ToolInvocation {
  readonly headers: Headers;
  readonly arguments: Record<string, unknown>;
}

/** The headers and arguments of an invocation, from the trigger value or else the trigger metadata, whatever the keys' case. */
export function readInvocation(toolArguments: unknown, context: InvocationContext): ToolInvocation {
  const metadata = objectOf(context.triggerMetadata);
  const fromTrigger = objectOf(typeof toolArguments === "string" ? parseJson(toolArguments) : toolArguments);
  const fromMetadata = objectOf(field(metadata, "mcptoolcontext"));
  const transport = objectOf(field(fromTrigger, "transport")) ?? objectOf(field(fromMetadata, "transport"));
  const headers = new Headers();
  for (const [name, value] of Object.entries(objectOf(field(objectOf(field(transport, "properties")), "headers")) ?? {})) {
    if (value === undefined || value === null) continue;
    try {
      headers.set(name, typeof value === "string" ? value : String(value));
    } catch {
      // A name or value that is not a valid HTTP header cannot be one the app reads.
    }
  }
  const args =
    objectOf(field(fromTrigger, "arguments")) ?? objectOf(field(fromMetadata, "arguments")) ?? objectOf(field(metadata, "mcptoolargs")) ?? {};
  return { headers, arguments: args };
}

function field(object: Record<string, unknown> | undefined, name: string): unknown {
  if (!object) return undefined;
  if (name in object) return object[name];
  const key = Object.keys(object).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : object[key];
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value) ? (value as Record<string, unknown>) : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
