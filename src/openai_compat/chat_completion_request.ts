/**
 * `POST /v1/chat/completions` as OpenAI's clients send it (the schema is chatCompletionRequestSchema
 * of src/http/api_schemas.ts), and the chat turn it asks for: the last message (the user's) is the
 * turn, the messages before it are the conversation so far. A body that breaks the schema is
 * refused with 400 and the field it is about as `param`.
 */
import type { z } from "zod";
import { chatCompletionRequestSchema } from "../http/api_schemas.js";
import type { LlmMessage } from "../llm/chat_model.js";
import { OpenAiRequestError } from "./openai_error.js";
import { parseOpenAiRequestBody } from "./openai_request_body.js";

export type ChatCompletionRequest = z.infer<typeof chatCompletionRequestSchema>;
type RequestMessage = ChatCompletionRequest["messages"][number];

/** Parses a request body's text; a body that is not JSON, or not of the shape, is refused with 400 and the field it is about. */
export function parseChatCompletionRequest(text: string): ChatCompletionRequest {
  return parseOpenAiRequestBody(text, chatCompletionRequestSchema);
}

/** The turn a request asks for: the text of its last message, the user's, and the messages before it as the model's history. */
export interface CompletionTurn {
  readonly message: string;
  readonly history: readonly LlmMessage[];
}

export function turnOf(request: ChatCompletionRequest): CompletionTurn {
  const last = request.messages.length - 1;
  const final = request.messages[last]!;
  if (final.role !== "user") {
    throw new OpenAiRequestError(
      "invalid_request",
      `The last message must be the user's (it is the turn to answer), not the ${final.role}'s.`,
      `messages[${last}].role`,
    );
  }
  const message = textOf(final, last);
  if (message.trim() === "") throw new OpenAiRequestError("invalid_request", "The last user message has no text.", `messages[${last}].content`);
  return { message, history: historyOf(request.messages.slice(0, last)) };
}

/**
 * The earlier messages as the model is given them. Text is kept as it was said; a client's own
 * tool calls and their results (this backend never hands the model's tool calls to a client, but
 * a conversation may come from elsewhere) are told as system notes, so that no call is left
 * without its result or a result without its call, which the model's API would refuse.
 */
function historyOf(messages: readonly RequestMessage[]): LlmMessage[] {
  const toolNames = new Map<string, string>();
  const history: LlmMessage[] = [];
  messages.forEach((message, index) => {
    switch (message.role) {
      case "system":
      case "developer":
      case "user": {
        const text = textOf(message, index);
        if (text !== "") history.push({ role: message.role === "user" ? "user" : "system", content: text });
        return;
      }
      case "assistant": {
        const text = textOf(message, index);
        if (text !== "") history.push({ role: "assistant", content: text });
        for (const call of message.tool_calls ?? []) {
          if (call.id) toolNames.set(call.id, call.function.name);
          history.push({ role: "system", content: `The assistant called the ${call.function.name} tool with ${call.function.arguments ?? "{}"}` });
        }
        return;
      }
      case "tool": {
        const name = toolNames.get(message.tool_call_id) ?? "a";
        history.push({ role: "system", content: `Result of the ${name} tool: ${textOf(message, index)}` });
        return;
      }
    }
  });
  return history;
}

/** A message's text: its content string, or its text parts joined; any other part (an image, audio, a file) is refused. */
function textOf(message: RequestMessage, index: number): string {
  const value = message.content;
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return value
    .map((part, partIndex) => {
      const isText = part.type === "text" || (part.type === "refusal" && message.role === "assistant");
      const text = part.type === "refusal" ? part.refusal : part.text;
      if (!isText || typeof text !== "string") {
        throw new OpenAiRequestError(
          "invalid_request",
          `Only text content parts are supported, not '${String(part.type).slice(0, 40)}'.`,
          `messages[${index}].content[${partIndex}]${isText ? `.${part.type === "refusal" ? "refusal" : "text"}` : ".type"}`,
        );
      }
      return text;
    })
    .join("\n");
}
