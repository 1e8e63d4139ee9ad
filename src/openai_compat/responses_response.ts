import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { ChatEvent, ChatReply } from "../chat/chat_events.js";
import { eventStream } from "../http/server_sent_events.js";
import type { ResponsesRequest } from "./responses_request.js";

/*
 * The answer and its events as OpenAI's API reference has them ("Streaming events", and the
 * OpenAPI document behind it: Response, OutputMessage, OutputTextContent, the Response*Event schemas).
 */

/** OutputTextContent: `annotations` and `logprobs` are required, and always empty here. */
const outputTextSchema = z.object({
  type: z.literal("output_text"),
  text: z.string(),
  annotations: z.array(z.never()),
  logprobs: z.array(z.never()),
});

/** OutputMessage: the assistant's answer. */
const outputMessageSchema = z.object({
  id: z.string().meta({ description: "`msg_…`, the same in every event about it." }),
  type: z.literal("message"),
  role: z.literal("assistant"),
  status: z.enum(["in_progress", "completed", "incomplete"]),
  content: z.array(outputTextSchema),
});

/** The response object: what `POST /api/v1/responses` answers, and what its lifecycle events carry. No `usage`: no count is made up. */
export const responseObjectSchema = z
  .object({
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
  })
  .meta({ id: "Response" });

const sequenceNumber = z.number().int().min(0).meta({ description: "0 for the first event of a stream, one more for each next one." });
const location = { item_id: z.string(), output_index: z.number().int(), content_index: z.number().int() };

/** Every event of a `stream: true` answer, in the order the reference lists them; `type` names it, and is also the event's SSE `event` field. */
export const responseStreamEventSchema = z
  .discriminatedUnion("type", [
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
  ])
  .meta({ id: "ResponseStreamEvent" });

export type ResponseObject = z.infer<typeof responseObjectSchema>;
export type ResponseStreamEvent = z.infer<typeof responseStreamEventSchema>;
type OutputMessage = z.infer<typeof outputMessageSchema>;

/** Why a response failed, as its `error` says it: the project's stable code and the message. */
export interface ResponseFailure {
  readonly code: string;
  readonly message: string;
}

/** What every response object of one answer says alike: its ids, when, and what the request set. */
export interface ResponseIdentity {
  readonly id: string;
  readonly messageId: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly model: string;
  readonly instructions: string | null;
  readonly maxOutputTokens: number | null;
  readonly metadata: Record<string, string>;
  readonly temperature: number | null;
  readonly topP: number | null;
}

export function newResponseIdentity(request: ResponsesRequest, now = Date.now()): ResponseIdentity {
  const hex = () => randomUUID().replaceAll("-", "");
  return {
    id: `resp_${hex()}`,
    messageId: `msg_${hex()}`,
    createdAt: Math.floor(now / 1000),
    model: request.model,
    instructions: request.instructions ?? null,
    maxOutputTokens: request.max_output_tokens ?? null,
    metadata: request.metadata ?? {},
    temperature: request.temperature ?? null,
    topP: request.top_p ?? null,
  };
}

/**
 * The response object, with the fields OpenAI's Response requires. Without `usage`: the answer may
 * take several model turns, or none (a plugin's), and no count is made up.
 */
function responseObject(
  identity: ResponseIdentity,
  status: ResponseObject["status"],
  output: readonly OutputMessage[],
  error: ResponseFailure | null = null,
): ResponseObject {
  return {
    id: identity.id,
    object: "response",
    created_at: identity.createdAt,
    status,
    error: error && { code: error.code, message: error.message },
    incomplete_details: null,
    instructions: identity.instructions,
    max_output_tokens: identity.maxOutputTokens,
    metadata: identity.metadata,
    model: identity.model,
    output: [...output],
    parallel_tool_calls: false,
    previous_response_id: null,
    store: false,
    temperature: identity.temperature,
    tool_choice: "auto",
    tools: [],
    top_p: identity.topP,
  };
}

function outputMessage(identity: ResponseIdentity, status: OutputMessage["status"], text?: string): OutputMessage {
  const content = text === undefined ? [] : [outputText(text)];
  return { id: identity.messageId, type: "message", role: "assistant", status, content };
}

const outputText = (text: string) => ({ type: "output_text" as const, text, annotations: [], logprobs: [] });

/** The reply as a completed response: one assistant message whose one part is the reply's text. */
export function completedResponse(reply: ChatReply, identity: ResponseIdentity): ResponseObject {
  return responseObject(identity, "completed", [outputMessage(identity, "completed", reply.reply)]);
}

/**
 * A chat turn's events as the Responses API's stream, in the order OpenAI documents it:
 * `response.created`, `response.in_progress`, `response.output_item.added`,
 * `response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`,
 * `response.content_part.done`, `response.output_item.done`, `response.completed`; each numbered
 * from 0. Nothing comes out until the answer's first text (the model's, or a plugin's reply whole),
 * so that whatever fails before it is still answered as an HTTP error with its status; the tool
 * calls on the way run on the server and show nothing. A failure after that ends the stream with
 * `response.failed`, whose `error` carries the stable code.
 */
export async function* responseEvents(
  events: AsyncIterable<ChatEvent>,
  identity: ResponseIdentity,
  failureOf: (error: unknown) => ResponseFailure,
): AsyncGenerator<ResponseStreamEvent, void> {
  let sequence = 0;
  const numbered = <E extends Omit<ResponseStreamEvent, "sequence_number">>(event: E) => ({ ...event, sequence_number: sequence++ }) as E & ResponseStreamEvent;
  const at = { item_id: identity.messageId, output_index: 0, content_index: 0 };
  let text: string | undefined;
  let streamed = false;
  try {
    for await (const event of events) {
      const piece = event.type === "token" ? event.text : event.type === "reply" && !streamed ? event.reply.reply : "";
      if (text === undefined && piece === "" && event.type !== "reply") continue;
      if (text === undefined) {
        text = "";
        const started = responseObject(identity, "in_progress", []);
        yield numbered({ type: "response.created", response: started });
        yield numbered({ type: "response.in_progress", response: started });
        yield numbered({ type: "response.output_item.added", output_index: 0, item: outputMessage(identity, "in_progress") });
        yield numbered({ type: "response.content_part.added", ...at, part: outputText("") });
      }
      if (piece !== "") {
        streamed ||= event.type === "token";
        text += piece;
        yield numbered({ type: "response.output_text.delta", ...at, delta: piece, logprobs: [] });
      }
      if (event.type !== "reply") continue;
      const item = outputMessage(identity, "completed", text);
      yield numbered({ type: "response.output_text.done", ...at, text, logprobs: [] });
      yield numbered({ type: "response.content_part.done", ...at, part: outputText(text) });
      yield numbered({ type: "response.output_item.done", output_index: 0, item });
      yield numbered({ type: "response.completed", response: responseObject(identity, "completed", [item]) });
      return;
    }
    throw new Error("the chat ended without a reply");
  } catch (error) {
    // Before the first event, the handler answers the error with its status.
    if (text === undefined) throw error;
    const failed = responseObject(identity, "failed", [outputMessage(identity, "incomplete", text)], failureOf(error));
    yield numbered({ type: "response.failed", response: failed });
  }
}

/**
 * The text/event-stream body: each event named by its type (`event: response.created`) with the
 * whole event, type included, as its data, as OpenAI streams them; no `[DONE]` follows. The
 * events end themselves (`response.completed` or `response.failed`); should the source still fail,
 * an `error` event (OpenAI's ResponseErrorEvent) ends the stream.
 */
export function responseEventStream(
  first: ResponseStreamEvent,
  rest: AsyncGenerator<ResponseStreamEvent, void>,
  failureOf: (error: unknown) => ResponseFailure,
): ReadableStream<Uint8Array> {
  let next = 0;
  const named = (event: { readonly type: string; readonly sequence_number: number } & Record<string, unknown>) => {
    next = event.sequence_number + 1;
    return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
  };
  return eventStream(first, rest, {
    event: named,
    failure: (error) => named({ type: "error", ...failureOf(error), param: null, sequence_number: next }),
  });
}
