/**
 * OpenAI's Responses API (`POST /api/v1/responses`) as zod schemas, written from OpenAI's API
 * reference ("Create a model response" and "Streaming events", and the OpenAPI document behind it:
 * CreateResponse, EasyInputMessage, Response, OutputMessage, OutputTextContent and the
 * Response*Event schemas). The request schema is the one the handler parses with; the answer and
 * event schemas describe what it sends, and `GET /api/openapi.json` is generated from them.
 *
 * This face is stateless: nothing is stored, so nothing stored can be referred to
 * (`previous_response_id`, `conversation`, item references), and the tools are the server's own
 * plugins, so a client's tools are refused rather than silently never called.
 */
import { z } from "zod";

// ---- the request ------------------------------------------------------------------------------

const stored = (name: string) =>
  `nothing is stored here, so '${name}' has nothing to refer to: send the whole conversation as \`input\` items (and \`store: false\`)`;

const inputContentPart = z.looseObject({ type: z.string(), text: z.unknown().optional() });

/**
 * A message item of `input` (OpenAI's EasyInputMessage, and the input and output messages of its
 * Item). Item references and other item types (a client's function calls, reasoning) are refused by
 * the handler, naming `input[n]`.
 */
export const responseInputMessageSchema = z.looseObject({
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
export const responsesRequestSchema = z.looseObject({
  model: z.string({ error: modelRequired }).min(1, modelRequired).meta({ description: "A model id of `GET /api/v1/models`: `codexcontinue`." }),
  input: z
    .union([z.string(), z.array(responseInputMessageSchema).min(1, "at least one input item is required")], {
      error: (issue) => (issue.input === undefined ? "input is required: the text, or the conversation as message items" : "expected a string or an array of input items"),
    })
    .meta({
      description:
        "The turn: text, or the conversation as message items whose last one, the user's, is the turn (`/run <plugin> <input>` runs a plugin, anything else goes to the language model); the items before it are the history the model sees. Item references (`item_reference`) and other item types are refused with 400 naming `input[n]`.",
    }),
  instructions: z.string().nullish().meta({ description: "Given to the model as a system message before the history." }),
  stream: z.boolean().nullish().meta({ description: "Answer with the Responses API's server-sent events (`response.created` … `response.completed`)." }),
  store: z.boolean().nullish().meta({ description: "Accepted; nothing is stored either way (the answer says `store: false`)." }),
  previous_response_id: z.null({ error: stored("previous_response_id") }).optional().meta({ description: "Refused when set: nothing is stored." }),
  conversation: z.null({ error: stored("conversation") }).optional().meta({ description: "Refused when set: nothing is stored." }),
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
}).meta({ id: "ResponsesRequest" });

// ---- the answer -------------------------------------------------------------------------------

/** OutputTextContent: `annotations` and `logprobs` are required, and always empty here. */
export const outputTextSchema = z.object({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.never()),
  logprobs: z.array(z.never()),
});

/** OutputMessage: the assistant's answer. */
export const outputMessageSchema = z.object({
  id: z.string().meta({ description: "`msg_…`, the same in every event about it." }),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: z.enum(["in_progress", "completed", "incomplete"]),
  content: z.array(outputTextSchema),
});

/** The response object: what `POST /api/v1/responses` answers, and what its lifecycle events carry. No `usage`: no count is made up. */
export const responseObjectSchema = z.object({
  id: z.string().meta({ description: "`resp_…`; it cannot be retrieved later (nothing is stored)." }),
  object: z.literal("response"),
  created_at: z.number().int().meta({ description: "Unix seconds." }),
  status: z.enum(["in_progress", "completed", "failed"]),
  error: z
    .object({ code: z.string().meta({ description: "The project's stable error code." }), message: z.string() })
    .nullable()
    .meta({ description: "Why the response failed (`status: failed`, in a stream's `response.failed`)." }),
  incomplete_details: z.null(),
  instructions: z.string().nullable(),
  max_output_tokens: z.number().int().nullable(),
  metadata: z.record(z.string(), z.string()),
  model: z.string(),
  output: z.array(outputMessageSchema).meta({ description: "One assistant message once the answer has started." }),
  parallel_tool_calls: z.literal(false).meta({ description: "The server runs the model's tool calls one after the other." }),
  previous_response_id: z.null(),
  store: z.literal(false),
  temperature: z.number().nullable(),
  tool_choice: z.literal("auto"),
  tools: z.array(z.never()),
  top_p: z.number().nullable(),
}).meta({ id: "Response" });

// ---- the stream -------------------------------------------------------------------------------

const sequenceNumber = z.number().int().min(0).meta({ description: "0 for the first event of a stream, one more for each next one." });
const location = { item_id: z.string(), output_index: z.number().int(), content_index: z.number().int() };

/** Every event of a `stream: true` answer, in the order the reference lists them; `type` names it, and is also the event's SSE `event` field. */
export const responseStreamEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("response.created"), sequence_number: sequenceNumber, response: responseObjectSchema }),
  z.object({ type: z.literal("response.in_progress"), sequence_number: sequenceNumber, response: responseObjectSchema }),
  z.object({ type: z.literal("response.output_item.added"), sequence_number: sequenceNumber, output_index: z.number().int(), item: outputMessageSchema }),
  z.object({ type: z.literal("response.content_part.added"), sequence_number: sequenceNumber, ...location, part: outputTextSchema }),
  z.object({ type: z.literal("response.output_text.delta"), sequence_number: sequenceNumber, ...location, delta: z.string(), logprobs: z.array(z.never()) }),
  z.object({ type: z.literal("response.output_text.done"), sequence_number: sequenceNumber, ...location, text: z.string(), logprobs: z.array(z.never()) }),
  z.object({ type: z.literal("response.content_part.done"), sequence_number: sequenceNumber, ...location, part: outputTextSchema }),
  z.object({ type: z.literal("response.output_item.done"), sequence_number: sequenceNumber, output_index: z.number().int(), item: outputMessageSchema }),
  z.object({ type: z.literal("response.completed"), sequence_number: sequenceNumber, response: responseObjectSchema }),
  z.object({ type: z.literal("response.failed"), sequence_number: sequenceNumber, response: responseObjectSchema }),
]).meta({ id: "ResponseStreamEvent" });
