import type { ApiError } from "./api_error.js";
import type { AwaitingApproval } from "../../src/approvals/approval_request.js";
import type { ChatEvent, ChatReply } from "../../src/chat/chat_events.js";

/** One part of an answer, in the order it arrived: streamed text, or a tool the model called. */
export type AnswerPart =
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "tool";
      readonly id: string;
      readonly name: string;
      readonly arguments: unknown;
      readonly outcome?: string;
      readonly result?: unknown;
      readonly error?: string;
    }
  /** A run (of `/run`, or of a tool call) that waits for an approver instead of running. */
  | { readonly kind: "approval"; readonly awaiting: AwaitingApproval };

export interface Turn {
  readonly id: number;
  readonly message: string;
  readonly parts: readonly AnswerPart[];
  readonly reply?: ChatReply;
  readonly error?: ApiError;
}

/** Folds one streamed event into the turn it belongs to. */
export function applyEvent(turn: Turn, event: ChatEvent): Turn {
  switch (event.type) {
    case "token": {
      const last = turn.parts.at(-1);
      const parts =
        last?.kind === "text"
          ? [...turn.parts.slice(0, -1), { kind: "text" as const, text: last.text + event.text }]
          : [...turn.parts, { kind: "text" as const, text: event.text }];
      return { ...turn, parts };
    }
    case "tool_call":
      return { ...turn, parts: [...turn.parts, { kind: "tool", id: event.id, name: event.name, arguments: event.arguments }] };
    case "tool_result":
      return {
        ...turn,
        parts: turn.parts.map((part) =>
          part.kind === "tool" && part.id === event.id ? { ...part, outcome: event.outcome, result: event.result, error: event.error } : part,
        ),
      };
    case "awaiting_approval": {
      const { type: _type, ...awaiting } = event;
      return { ...turn, parts: [...turn.parts, { kind: "approval", awaiting }] };
    }
    case "reply": {
      // A /run reply, or a model that streamed nothing, has no text yet: the reply is the answer;
      // a /run that waits for an approver is shown as such (its reply text says the same).
      const approval = event.reply.approval;
      const answered = turn.parts.some((part) => part.kind === "text" || (part.kind === "approval" && part.awaiting.runId === approval?.runId));
      const parts: readonly AnswerPart[] = answered
        ? turn.parts
        : [...turn.parts, approval ? { kind: "approval", awaiting: approval } : { kind: "text", text: event.reply.reply }];
      return { ...turn, reply: event.reply, parts };
    }
    default:
      return turn;
  }
}
