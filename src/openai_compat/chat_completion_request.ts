/**
 * `POST /v1/chat/completions` as OpenAI's clients send it, and the chat turn it asks for: the last message (the user's) is the
 * turn, the messages before it are the conversation so far. A body that breaks the schema is
 * refused with 400 and the field it is about as `param`.
 */
import { z } from "zod";
import { sessionIdHeaderField } from "../http/request_fields.js";
import type { LlmMessage } from "../llm/chat_model.js";
import { OpenAiRequestError } from "./openai_error.js";
import { parseOpenAiRequestBody } from "./openai_request_body.js";

/*
 * OpenAI's chat completions request as its clients send it. What this backend acts on is `model`,
 * `messages` and `stream`; the common options it accepts without acting on them (sampling, token
 * limits, the client's own `tools`: the model is offered the plugins instead) have their types
 * checked; any other field is accepted and ignored, as clients add their own.
 */
const openAiContentPart = z.looseObject({ type: z.string(), text: z.unknown().optional() });
const openAiContent = z
  .union([z.string(), z.array(openAiContentPart)], { error: "expected a string or an array of content parts" })
  .meta({ description: "Text, or an array of content parts of which only `text` parts (and an assistant's `refusal` parts) are supported." });
const openAiToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().optional() }),
});
const openAiNumber = z.number().nullish().meta({ description: "Accepted; not acted on." });
const openAiTokenCount = z.number().int().min(0).nullish().meta({ description: "Accepted; not acted on." });

/** `POST /api/v1/chat/completions`. */
export const chatCompletionRequestSchema = z
  .looseObject({
    model: z.string().min(1, "a model is required: GET /v1/models lists them").meta({ description: "A model id of `GET /api/v1/models`: `codexcontinue`." }),
    messages: z
      .array(
        z.discriminatedUnion(
          "role",
          [
            z.looseObject({ role: z.enum(["system", "developer"]), content: openAiContent, name: z.string().nullish() }),
            z.looseObject({ role: z.literal("user"), content: openAiContent, name: z.string().nullish() }),
            z.looseObject({
              role: z.literal("assistant"),
              content: openAiContent.nullish(),
              name: z.string().nullish(),
              refusal: z.string().nullish(),
              tool_calls: z.array(openAiToolCall).nullish(),
            }),
            z.looseObject({ role: z.literal("tool"), content: openAiContent, tool_call_id: z.string() }),
          ],
          { error: "expected one of the roles 'system', 'developer', 'user', 'assistant', 'tool'" },
        ),
      )
      .min(1, "at least one message is required")
      .meta({
        description:
          "The conversation. The last message must be the user's: it is the turn (`/run <plugin> <input>` runs a plugin, anything else goes to the language model); the messages before it are the history the model sees.",
      }),
    stream: z.boolean().nullish().meta({ description: "Answer with `chat.completion.chunk` server-sent events, ending with `data: [DONE]`." }),
    user: z.string().max(256).nullish().meta({ description: "Accepted; the caller is who authenticated." }),
    n: z.literal(1, "only one choice (n: 1) is produced").nullish(),
    stream_options: z.looseObject({}).nullish().meta({ description: "Accepted; no usage is reported." }),
    temperature: openAiNumber,
    top_p: openAiNumber,
    presence_penalty: openAiNumber,
    frequency_penalty: openAiNumber,
    max_tokens: openAiTokenCount,
    max_completion_tokens: openAiTokenCount,
    seed: z.number().int().nullish(),
    stop: z.union([z.string(), z.array(z.string())]).nullish(),
    tools: z
      .array(z.looseObject({}))
      .nullish()
      .meta({ description: "Accepted and not used: the model is offered the plugins the caller may run, and they run on the server." }),
    tool_choice: z.union([z.string(), z.looseObject({})]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    response_format: z.looseObject({}).nullish(),
    logit_bias: z.record(z.string(), z.number()).nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    store: z.boolean().nullish(),
  })
  .meta({ id: "ChatCompletionRequest" });

/** The optional header of the OpenAI-compatible routes that run a turn: the session it is recorded in. */
export const sessionHeaderSchema = z.object({
  "x-session-id": sessionIdHeaderField.optional().meta({
    description:
      "Records the turn in this session of the caller's (its memory and its audit log, `GET /api/memory/audit/{sessionId}`); without it nothing is recorded.",
  }),
});

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
