/** The shapes of the public API the console reads (src/http/api_schemas.ts is their source). */
export interface PluginDescription {
  readonly name: string;
  readonly description: string;
  readonly aliases: readonly string[];
  readonly inputSchema: JsonSchema;
  readonly timeoutMs: number;
  readonly channels: readonly string[];
}

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly [keyword: string]: unknown;
}

export interface ExecuteResult {
  readonly status: "success";
  readonly plugin: string;
  readonly result: unknown;
  readonly durationMs: number;
  readonly runId: string;
  readonly cached: boolean;
}

/** A run the policy holds for an approver: nothing ran yet; it runs once approved. */
export interface AwaitingApproval {
  readonly state: "awaiting_approval";
  readonly runId: string;
  readonly plugin: string;
  readonly expiresAt: string;
  readonly location: string;
}

/** `POST /api/plugins/execute` of a plugin whose runs wait for an approver: 202. */
export interface AwaitingApprovalRun extends AwaitingApproval {
  readonly status: "awaiting_approval";
}

export type RunState = "awaiting_approval" | "approved" | "denied" | "expired" | "queued" | "running" | "succeeded" | "failed";

/** `GET /api/runs/{runId}`. */
export interface RunView {
  readonly runId: string;
  readonly plugin: string | null;
  readonly state: RunState;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
  readonly approval?: { readonly expiresAt: string; readonly decidedBy?: string; readonly decidedAt?: string; readonly reason?: string };
}

/** One pending request of `GET /api/approvals`. */
export interface ApprovalRequest {
  readonly runId: string;
  readonly plugin: string;
  readonly input: unknown;
  readonly requester: string;
  readonly channel: string | null;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** `POST /api/approvals/{runId}`. */
export interface Decision {
  readonly runId: string;
  readonly plugin: string;
  readonly state: "approved" | "denied";
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly reason?: string;
}

export interface ChatReply {
  readonly sessionId: string;
  readonly reply: string;
  readonly source: "plugin" | "llm";
  readonly plugin?: string;
  readonly result?: unknown;
  readonly runId?: string;
  readonly toolCalls?: number;
  readonly approval?: AwaitingApproval;
}

export type ChatEvent =
  | { readonly type: "session"; readonly sessionId: string }
  | { readonly type: "token"; readonly text: string }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly arguments: unknown }
  | { readonly type: "tool_result"; readonly id: string; readonly name: string; readonly outcome: string; readonly result?: unknown; readonly error?: string }
  | ({ readonly type: "awaiting_approval" } & AwaitingApproval)
  | { readonly type: "reply"; readonly reply: ChatReply };

export interface AuditEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly timestamp: string;
  readonly type: "user_message" | "reply" | "tool_call" | "plugin_run" | "memory_cleared" | "approval_requested" | "approval_decided";
  readonly content?: string;
  readonly source?: "plugin" | "llm";
  readonly plugin?: string;
  readonly runId?: string;
  readonly input?: unknown;
  readonly result?: unknown;
  readonly outcome?: string;
  readonly errorMessage?: string;
  readonly durationMs?: number;
  readonly expiresAt?: string;
  readonly approver?: string;
  readonly reason?: string;
  readonly truncated?: boolean;
}

export interface AuditPage {
  readonly sessionId: string;
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: string | null;
}
