/**
 * The console's client of the public API (docs/api.md). Its types are the API's own, imported from
 * the schemas the API declares them with (type-only: no server code reaches the page). It
 * uses nothing the API does not offer every client: the bearer token, if any, is the one the
 * user pasted, kept in this tab's sessionStorage only.
 */
import { ApiError } from "./api_error.js";
import type { ApprovalList } from "../../functions/approvals_list.js";
import type { AuditPage } from "../../functions/memory_audit.js";
import type { AwaitingApprovalRun, ExecuteResult } from "../../functions/plugins_execute.js";
import type { PluginList } from "../../functions/plugins_list.js";
import type { DecisionView } from "../../src/approvals/approval_service.js";
import type { ChatEvent, ChatReply } from "../../src/chat/chat_events.js";
import type { ErrorBody } from "../../src/http/api_response.js";
import type { RunView } from "../../src/runs/run_service.js";
import { readServerSentEvents } from "./sse.js";
import { storedToken } from "./storage.js";

export { ApiError } from "./api_error.js";
export type { AwaitingApprovalRun, ChatEvent, ChatReply, DecisionView, ExecuteResult, RunView };
export type { AwaitingApproval } from "../../src/approvals/approval_request.js";
export type { ApprovalView } from "../../src/approvals/approval_service.js";
export type { AuditEntry } from "../../src/audit/audit_event.js";
export type { CallerPlugin } from "../../src/plugins/plugin_registry.js";

const unauthorizedListeners = new Set<(error: ApiError) => void>();

/** Called with every 401: the console then offers the token field. */
export function onUnauthorized(listener: (error: ApiError) => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

const base = "/api";

async function send(path: string, init: RequestInit & { accept?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("accept", init.accept ?? "application/json");
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const token = storedToken();
  if (token) headers.set("authorization", `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(`${base}${path}`, { ...init, headers, credentials: "omit", cache: "no-store" });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "network_error", "The API could not be reached. Is the app running?");
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

async function errorOf(response: Response): Promise<ApiError> {
  let error: ApiError;
  try {
    // Whatever answered (a proxy's error page too): the API's error body, or parts of it.
    const body = (await response.json()) as Partial<ErrorBody>;
    error = new ApiError(response.status, body.error?.code ?? `http_${response.status}`, body.error?.message ?? response.statusText, body.error?.details);
  } catch {
    error = new ApiError(response.status, `http_${response.status}`, response.statusText || "The API answered with an error.");
  }
  if (response.status === 401) for (const listener of unauthorizedListeners) listener(error);
  return error;
}

async function json<T>(path: string, init?: RequestInit): Promise<T> {
  return (await (await send(path, init)).json()) as T;
}

export const api = {
  plugins: () => json<PluginList>("/plugins").then((body) => body.plugins),

  /** 200 with the result, or 202 when the run waits for an approver. */
  execute: (plugin: string, data: unknown, sessionId: string) =>
    json<ExecuteResult | AwaitingApprovalRun>("/plugins/execute", {
      method: "POST",
      body: JSON.stringify(data === undefined ? { plugin, sessionId } : { plugin, data, sessionId }),
    }),

  run: (runId: string) => json<RunView>(`/runs/${encodeURIComponent(runId)}`),

  /** 403 approval_forbidden for a caller who approves nothing. */
  approvals: () => json<ApprovalList>("/approvals").then((body) => body.approvals),

  decide: (runId: string, decision: "approve" | "deny", reason: string) =>
    json<DecisionView>(`/approvals/${encodeURIComponent(runId)}`, {
      method: "POST",
      body: JSON.stringify(reason === "" ? { decision } : { decision, reason }),
    }),

  auditPage: (sessionId: string, cursor: string | null, limit = 20) => {
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    return json<AuditPage>(`/memory/audit/${encodeURIComponent(sessionId)}?${query}`);
  },

  /**
   * `POST /api/chat` with `stream: true`: the events as they arrive (`session`, `token`,
   * `tool_call`, `tool_result`, `awaiting_approval`, then `reply`); an `error` event becomes a thrown ApiError, as
   * does an error answered before the stream started.
   */
  async chat(message: string, sessionId: string, onEvent: (event: ChatEvent) => void, signal?: AbortSignal): Promise<ChatReply> {
    const response = await send("/chat", {
      method: "POST",
      body: JSON.stringify({ message, sessionId, stream: true }),
      accept: "text/event-stream",
      signal,
    });
    if (!(response.headers.get("content-type") ?? "").startsWith("text/event-stream") || !response.body) {
      const reply = (await response.json()) as ChatReply;
      onEvent({ type: "reply", reply });
      return reply;
    }
    let reply: ChatReply | undefined;
    for await (const { event, data } of readServerSentEvents(response.body)) {
      const payload = JSON.parse(data) as Record<string, unknown>;
      if (event === "error") {
        const error = (payload as Partial<ErrorBody>).error;
        throw new ApiError(0, error?.code ?? "internal_error", error?.message ?? "The answer failed.", error?.details);
      }
      // The data of an event is its fields without the type: `reply` carries `{reply}`, `token` `{text}`.
      const chatEvent = { ...payload, type: event } as ChatEvent;
      if (chatEvent.type === "reply") reply = chatEvent.reply;
      onEvent(chatEvent);
    }
    if (!reply) throw new ApiError(0, "stream_ended", "The answer ended before its reply.");
    return reply;
  },
};
