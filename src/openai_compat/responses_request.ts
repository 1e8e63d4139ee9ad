/**
 * `POST /v1/responses` as OpenAI's clients send it, and the chat turn it asks for: `input` as text
 * is the turn; as message items, the last one (the user's) is the turn and the ones before it the
 * conversation so far, after `instructions`. A body that breaks the rules is refused with 400
 * naming the field. The schema is written from OpenAI's API reference ("Create a model response",
 * and the OpenAPI document behind it: CreateResponse, EasyInputMessage).
 *
 * This face is stateless: nothing is stored, so nothing stored can be referred to
 * (`previous_response_id`, `conversation`, item references), and the tools are the server's own
 * plugins, so a client's tools are refused rather than silently never called.
 */
import { z } from "zod";
import type { LlmMessage } from "../llm/chat_model.js";
import type { CompletionTurn } from "./chat_completion_request.js";
import { OpenAiRequestError } from "./openai_error.js";
import { jsonObjectOf, validated } from "./openai_request_body.js";

const stored = (name: string) =>
  `nothing is stored here, so '${name}' has nothing to refer to: send the whole conversation as \`input\` items (and \`store: false\`)`;

const inputContentPart = z.looseObject({ type: z.string(), text: z.unknown().optional() });

/**
 * A message item of `input` (OpenAI's EasyInputMessage, and the input and output messages of its
 * Item). Item references and other item types (a client's function calls, reasoning) are refused by
 * the handler, naming `input[n]`.
 */
const responseInputMessageSchema = z.looseObject({
  type: z.literal("message").optional(),
  role: z.enum(["user", "assistant", "system", "developer"], { error: "expected one of the roles 'user', 'assistant', 'system', 'developer'" }),
  content: z.union([z.string(), z.array(inputContentPart)], { error: "expected a string or an array of content parts" }).meta({
    description:
      "Text, or a list of content parts: `input_text` or `output_text` parts (and an earlier assistant message's `refusal` parts); an image, file or audio part is refused.",
  }),
  id: z.string().optional(),
  status: z.string().optional(),
  phase: z.string().nullish(),
});

const acceptedNumber = z.number().nullish().meta({ description: "Accepted; not acted on." });

const modelRequired = "a model is required: GET /v1/models lists them";

/** `POST /api/v1/responses`. */
export const responsesRequestSchema = z
  .looseObject({
    model: z.string({ error: modelRequired }).min(1, modelRequired).meta({ description: "A model id of `GET /api/v1/models`: `codexcontinue`." }),
    input: z
      .union([z.string(), z.array(responseInputMessageSchema).min(1, "at least one input item is required")], {
        error: (issue) =>
          issue.input === undefined ? "input is required: the text, or the conversation as message items" : "expected a string or an array of input items",
      })
      .meta({
        description:
          "The turn: text, or the conversation as message items whose last one, the user's, is the turn (`/run <plugin> <input>` runs a plugin, anything else goes to the language model); the items before it are the history the model sees. Item references (`item_reference`) and other item types are refused with 400 naming `input[n]`.",
      }),
    instructions: z.string().nullish().meta({ description: "Given to the model as a system message before the history." }),
    stream: z.boolean().nullish().meta({ description: "Answer with the Responses API's server-sent events (`response.created` … `response.completed`)." }),
    store: z.boolean().nullish().meta({ description: "Accepted; nothing is stored either way (the answer says `store: false`)." }),
    previous_response_id: z
      .null({ error: stored("previous_response_id") })
      .optional()
      .meta({ description: "Refused when set: nothing is stored." }),
    conversation: z
      .null({ error: stored("conversation") })
      .optional()
      .meta({ description: "Refused when set: nothing is stored." }),
    tools: z
      .array(z.unknown())
      .max(0, "the tools here are the server's plugins, run on the server: send no tools of your own (the model is offered the plugins the caller may run)")
      .nullish()
      .meta({ description: "Must be empty when sent: the model is offered the plugins the caller may run, and they run on the server." }),
    tool_choice: z.union([z.string(), z.looseObject({})]).nullish(),
    parallel_tool_calls: z.boolean().nullish(),
    background: z.literal(false, "a response cannot run in the background: nothing is stored to fetch it from later").nullish(),
    temperature: acceptedNumber,
    top_p: acceptedNumber,
    max_output_tokens: z.number().int().min(0).nullish().meta({ description: "Accepted; not acted on." }),
    metadata: z.record(z.string(), z.string()).nullish().meta({ description: "Accepted, and given back in the answer." }),
    user: z.string().max(256).nullish().meta({ description: "Accepted; the caller is who authenticated." }),
    text: z.looseObject({}).nullish(),
    reasoning: z.looseObject({}).nullish(),
    include: z.array(z.string()).nullish(),
  })
  .meta({ id: "ResponsesRequest" });

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
    throw new OpenAiRequestError(
      "invalid_request",
      `The last input item must be the user's message (it is the turn to answer), not the ${final.role}'s.`,
      `input[${last}].role`,
    );
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
      const field =
        part.type === "refusal" && message.role === "assistant" ? "refusal" : part.type === "input_text" || part.type === "output_text" ? "text" : undefined;
      if (field === undefined) {
        throw new OpenAiRequestError("invalid_request", `Only text content parts are supported, not '${String(part.type).slice(0, 40)}'.`, `${at}.type`);
      }
      const text = (part as Record<string, unknown>)[field];
      if (typeof text !== "string") throw new OpenAiRequestError("invalid_request", `Invalid '${at}.${field}': expected a string.`, `${at}.${field}`);
      return text;
    })
    .join("\n");
}
