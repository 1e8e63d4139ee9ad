import type { AwaitingApproval } from "../approvals/approval_request.js";

/** What happens while a chat message is answered, in order; streamed as server-sent events. */
export interface ChatReply {
  readonly sessionId: string;
  readonly reply: string;
  readonly source: "plugin" | "llm";
  readonly plugin?: string;
  readonly result?: unknown;
  readonly runId?: string;
  /** Tool calls the model made on the way to this reply. */
  readonly toolCalls?: number;
  /** `/run` of a plugin whose runs wait for an approver: the request (the reply says so too). */
  readonly approval?: AwaitingApproval;
}

export type ChatEvent =
  | { readonly type: "session"; readonly sessionId: string }
  | { readonly type: "token"; readonly text: string }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly arguments: unknown }
  | {
      readonly type: "tool_result";
      readonly id: string;
      readonly name: string;
      /** "success", or the error code the model was told about. */
      readonly outcome: string;
      readonly result?: unknown;
      readonly error?: string;
    }
  /** A run (of `/run`, or of a model's tool call) waits for an approver instead of running. */
  | ({ readonly type: "awaiting_approval" } & AwaitingApproval)
  | { readonly type: "reply"; readonly reply: ChatReply };
