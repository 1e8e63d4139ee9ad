import type { LlmMessage } from "../llm/chat_model.js";
import type { MemoryMessage } from "../memory/memory_message.js";

/**
 * The session's recent messages as the model sees them: the newest first kept, within both a
 * count and a character budget, returned oldest first. Notes and tool results the session
 * remembers are given as system context rather than as turns the user or model never said.
 */
export function historyForModel(messages: readonly MemoryMessage[], limits: HistoryLimits): LlmMessage[] {
  return boundedHistory(messages.map(toModelMessage), limits);
}

export interface HistoryLimits {
  readonly maxMessages: number;
  readonly maxChars: number;
}

/**
 * The newest messages of a conversation, within both a count and a character budget, oldest
 * first: the session's memory (above), or the conversation a client sends whole (an OpenAI-style request).
 */
export function boundedHistory(messages: readonly LlmMessage[], limits: HistoryLimits): LlmMessage[] {
  const kept: LlmMessage[] = [];
  let chars = 0;
  for (let i = messages.length - 1; i >= 0 && kept.length < limits.maxMessages; i--) {
    const message = messages[i]!;
    const size = "content" in message ? message.content.length : 0;
    if (chars + size > limits.maxChars) break;
    chars += size;
    kept.push(message);
  }
  return kept.reverse();
}

function toModelMessage(message: MemoryMessage): LlmMessage {
  switch (message.role) {
    case "user":
      return { role: "user", content: message.content };
    case "assistant":
      return { role: "assistant", content: message.content };
    case "note":
      return { role: "system", content: `Note remembered in this session: ${message.content}` };
    case "tool":
      return { role: "system", content: `Earlier result of the ${message.plugin ?? "tool"} tool: ${message.content}` };
    case "system":
      return { role: "system", content: message.content };
  }
}
