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

export interface ChatReply {
  readonly sessionId: string;
  readonly reply: string;
  readonly source: "plugin" | "llm";
  readonly plugin?: string;
  readonly result?: unknown;
  readonly runId?: string;
  readonly toolCalls?: number;
}

export type ChatEvent =
  | { readonly type: "session"; readonly sessionId: string }
  | { readonly type: "token"; readonly text: string }
  | { readonly type: "tool_call"; readonly id: string; readonly name: string; readonly arguments: unknown }
  | { readonly type: "tool_result"; readonly id: string; readonly name: string; readonly outcome: string; readonly result?: unknown; readonly error?: string }
  | { readonly type: "reply"; readonly reply: ChatReply };

export interface AuditEntry {
  readonly id: string;
  readonly sessionId: string;
  readonly timestamp: string;
  readonly type: "user_message" | "reply" | "tool_call" | "plugin_run" | "memory_cleared";
  readonly content?: string;
  readonly source?: "plugin" | "llm";
  readonly plugin?: string;
  readonly runId?: string;
  readonly input?: unknown;
  readonly result?: unknown;
  readonly outcome?: string;
  readonly errorMessage?: string;
  readonly durationMs?: number;
  readonly truncated?: boolean;
}

export interface AuditPage {
  readonly sessionId: string;
  readonly entries: readonly AuditEntry[];
  readonly nextCursor: string | null;
}
