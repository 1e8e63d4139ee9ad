import { awaitingApprovalText, isAwaitingApproval } from "../approvals/approval_request.js";
import type { Caller } from "../auth/caller.js";
import { AppError, describeThrown } from "../errors/app_error.js";
import { httpStatusOf } from "../errors/error_codes.js";
import type { Logger } from "../logging/logger.js";
import { sessionIdFromHeader } from "../memory/session_id.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";

/** MCP's CallToolResult as the endpoint sends it: text content, `structuredContent` for a JSON object, `isError` for a failure. */
export interface McpToolResult {
  readonly content: { readonly type: "text"; readonly text: string }[];
  readonly structuredContent?: Record<string, unknown>;
  readonly isError?: boolean;
  /** The SDK types CallToolResult as an open object; nothing else is sent. */
  readonly [key: string]: unknown;
}

export interface McpToolCallDependencies {
  readonly runner: PluginRunner;
  readonly logger: Logger;
}

export interface McpToolCall {
  /** Already authenticated, and its request counted against its rate limit, as on every route. */
  readonly caller: Caller;
  readonly tool: string;
  readonly arguments: unknown;
  /** The `x-session-id` header as sent, if it was: the call is then recorded in that session's audit log. */
  readonly sessionId: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Details longer than this are cut in the text a model reads (as in a chat's tool errors). */
const maxDetailChars = 2000;

/**
 * One tool call, run through the same runner as every channel (policy on the mcp channel,
 * validation, timeout, bulkhead, audit). Never throws: whatever fails comes back as an `isError`
 * result whose text starts with the stable error code, `error (<code>): <message>`, which a model
 * can act on. A run the policy holds for an approver is a result (not an error) saying so, with
 * `structuredContent` `{state: "awaiting_approval", runId, plugin, expiresAt, location}`.
 */
export async function callMcpTool(deps: McpToolCallDependencies, call: McpToolCall): Promise<McpToolResult> {
  try {
    // A blank header names no session: an MCP client configuration that leaves the value empty.
    const sessionId = sessionIdFromHeader(call.sessionId?.trim() || undefined);
    const run = await deps.runner.execute({
      caller: call.caller,
      channel: "mcp",
      plugin: call.tool,
      data: call.arguments ?? {},
      sessionId,
      signal: call.signal,
    });
    // A run held for an approver is no failure: the client is told so, with the run id to follow it by.
    if (isAwaitingApproval(run)) return { content: [{ type: "text", text: awaitingApprovalText(run) }], structuredContent: { ...run } };
    return mcpToolResult(run.result);
  } catch (error) {
    return mcpToolError(error, deps.logger);
  }
}

/** A plugin's result: a string as it is, anything else as JSON text; a JSON object also as `structuredContent` (which MCP requires to be an object). */
function mcpToolResult(result: unknown): McpToolResult {
  const text = typeof result === "string" ? result : JSON.stringify(result);
  return isJsonObject(result) ? { content: [{ type: "text", text }], structuredContent: result } : { content: [{ type: "text", text }] };
}

/**
 * A failure as a tool result: the code, the message and the details in the text, and the same as
 * `structuredContent.error` for clients that branch on it. Anything that is not an AppError is
 * logged and answered as internal_error, as the HTTP API answers it.
 */
function mcpToolError(error: unknown, logger: Logger): McpToolResult {
  if (!(error instanceof AppError)) {
    logger.error("mcp tool call failed", { error: describeThrown(error), stack: error instanceof Error ? error.stack : undefined });
    return errorResult({ code: "internal_error", message: "internal error" });
  }
  const status = httpStatusOf(error.code);
  if (status >= 500) {
    (status === 503 ? logger.warn : logger.error)("mcp tool call failed", {
      code: error.code,
      error: error.message,
      cause: error.cause === undefined ? undefined : describeThrown(error.cause),
    });
  }
  return errorResult({ code: error.code, message: error.message, ...(error.details === undefined ? {} : { details: error.details }) });
}

function errorResult(error: { code: string; message: string; details?: unknown }): McpToolResult {
  const details = error.details === undefined ? "" : ` ${cut(JSON.stringify(error.details))}`;
  return { content: [{ type: "text", text: `error (${error.code}): ${error.message}${details}` }], structuredContent: { error }, isError: true };
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function cut(text: string): string {
  return text.length <= maxDetailChars ? text : `${text.slice(0, maxDetailChars)}…[cut at ${maxDetailChars} characters]`;
}
