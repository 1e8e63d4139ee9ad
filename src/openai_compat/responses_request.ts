/**
 * `POST /v1/responses` as OpenAI's clients send it (responsesRequestSchema of
 * src/http/responses_api_schemas.ts), and the chat turn it asks for: `input` as text is the turn;
 * as message items, the last one (the user's) is the turn and the ones before it the conversation
 * so far, after `instructions`. A body that breaks the rules is refused with 400 naming the field.
 */
import type { z } from "zod";
import { responsesRequestSchema, type responseInputMessageSchema } from "../http/responses_api_schemas.js";
import type { LlmMessage } from "../llm/chat_model.js";
import type { CompletionTurn } from "./chat_completion_request.js";
import { OpenAiRequestError } from "./openai_error.js";
import { jsonObjectOf, validated } from "./openai_request_body.js";

export type ResponsesRequest = z.infer<typeof responsesRequestSchema>;
type InputMessage = z.infer<typeof responseInputMessageSchema>;

export function parseResponsesRequest(text: string): ResponsesRequest {
  const body = jsonObjectOf(text);
  if (Array.isArray(body.input)) body.input.forEach(refuseItemOtherThanMessage);
  return validated(body, responsesRequestSchema);
}

/**
 * An item reference names an item stored by an earlier response (the AI SDK sends them unless
 * `store` is false); nothing is stored here. Other items (a client's function calls and their
 * outputs, reasoning) belong to tools and models this face does not have.
 */
function refuseItemOtherThanMessage(item: unknown, index: number): void {
  if (item === null || typeof item !== "object" || Array.isArray(item)) return; // the schema refuses it, naming it
  const { type, role, id } = item as Record<string, unknown>;
  const untyped = type === undefined || type === null;
  if (type === "item_reference" || (untyped && role === undefined && id !== undefined)) {
    throw new OpenAiRequestError(
      "invalid_request",
      `Invalid 'input[${index}]': an item reference names a stored item, and nothing is stored here: send the item itself (the AI SDK does with providerOptions.openai.store = false).`,
      `input[${index}]`,
    );
  }
  if (!untyped && type !== "message") {
    throw new OpenAiRequestError(
      "invalid_request",
      `Invalid 'input[${index}].type': only message items are supported, not '${String(type).slice(0, 40)}'.`,
      `input[${index}].type`,
    );
  }
}

export function responseTurnOf(request: ResponsesRequest): CompletionTurn {
  const instructions = request.instructions ? [{ role: "system" as const, content: request.instructions }] : [];
  if (typeof request.input === "string") {
    if (request.input.trim() === "") throw new OpenAiRequestError("invalid_request", "The input has no text.", "input");
    return { message: request.input, history: instructions };
  }
  const last = request.input.length - 1;
  const final = request.input[last]!;
  if (final.role !== "user") {
    throw new OpenAiRequestError("invalid_request", `The last input item must be the user's message (it is the turn to answer), not the ${final.role}'s.`, `input[${last}].role`);
  }
  const message = textOf(final, last);
  if (message.trim() === "") throw new OpenAiRequestError("invalid_request", "The last user message has no text.", `input[${last}].content`);
  const history = request.input.slice(0, last).flatMap((item, index): LlmMessage[] => {
    const text = textOf(item, index);
    if (text === "") return [];
    return [{ role: item.role === "user" || item.role === "assistant" ? item.role : "system", content: text }];
  });
  return { message, history: [...instructions, ...history] };
}

/** A message's text: its content string, or its text parts joined; any other part (an image, a file, audio) is refused. */
function textOf(message: InputMessage, index: number): string {
  if (typeof message.content === "string") return message.content;
  return message.content
    .map((part, partIndex) => {
      const at = `input[${index}].content[${partIndex}]`;
      const field = part.type === "refusal" && message.role === "assistant" ? "refusal" : part.type === "input_text" || part.type === "output_text" ? "text" : undefined;
      if (field === undefined) {
        throw new OpenAiRequestError("invalid_request", `Only text content parts are supported, not '${String(part.type).slice(0, 40)}'.`, `${at}.type`);
      }
      const text = (part as Record<string, unknown>)[field];
      if (typeof text !== "string") throw new OpenAiRequestError("invalid_request", `Invalid '${at}.${field}': expected a string.`, `${at}.${field}`);
      return text;
    })
    .join("\n");
}
