import type { Response as SdkResponse } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import type { ChatEvent, ChatReply } from "../../../src/chat/chat_events.js";
import { AppError } from "../../../src/errors/app_error.js";
import { parseResponsesRequest } from "../../../src/openai_compat/responses_request.js";
import {
  completedResponse,
  newResponseIdentity,
  responseEvents,
  responseEventStream,
  responseObjectSchema,
  responseStreamEventSchema,
  type ResponseStreamEvent,
} from "../../../src/openai_compat/responses_response.js";
import { parseEventStream, responseProblems, streamProblems } from "../../support/responses_stream_rules.js";

const request = parseResponsesRequest(
  JSON.stringify({ model: "codexcontinue", input: "hi", instructions: "Be brief.", metadata: { team: "a" }, temperature: 0.2 }),
);
const identity = { ...newResponseIdentity(request, 1_800_000_000_999), id: "resp_test", messageId: "msg_test" };
const pluginReply: ChatReply = { sessionId: "s1", reply: "14", source: "plugin", plugin: "calculator", result: 14, runId: "r1" };
const modelReply = (reply: string): ChatReply => ({ sessionId: "s1", reply, source: "llm", toolCalls: 1 });
const failureOf = (error: unknown) =>
  error instanceof AppError ? { code: error.code, message: error.message } : { code: "internal_error", message: "internal" };

async function* events(...list: (ChatEvent | Error)[]): AsyncGenerator<ChatEvent, void> {
  for (const event of list) {
    if (event instanceof Error) throw event;
    yield event;
  }
}

async function all(source: AsyncGenerator<ResponseStreamEvent, void>): Promise<ResponseStreamEvent[]> {
  const out: ResponseStreamEvent[] = [];
  for await (const event of source) out.push(event);
  return out;
}

/** The events checked against OpenAI's reference (tests/support/responses_stream_rules.ts) and the route's own schema. */
function expectValidStream(list: readonly ResponseStreamEvent[]): void {
  expect(streamProblems(list.map((data) => ({ event: data.type, data })))).toEqual([]);
  for (const event of list) expect(responseStreamEventSchema.parse(event)).toEqual(event);
}

describe("a reply as a response object", () => {
  it("is OpenAI's Response, the SDK's type, with the reply as the assistant's one output_text and no usage made up", () => {
    // The SDK's `error.code` lists OpenAI's own codes; this API's are the project's stable ones.
    const response: Omit<SdkResponse, "output_text" | "error"> = completedResponse(pluginReply, identity);
    expect(response).toEqual({
      id: "resp_test",
      object: "response",
      created_at: 1_800_000_000,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be brief.",
      max_output_tokens: null,
      metadata: { team: "a" },
      model: "codexcontinue",
      output: [
        {
          id: "msg_test",
          type: "message",
          role: "assistant",
          status: "completed",
          content: [{ type: "output_text", text: "14", annotations: [], logprobs: [] }],
        },
      ],
      parallel_tool_calls: false,
      previous_response_id: null,
      store: false,
      temperature: 0.2,
      tool_choice: "auto",
      tools: [],
      top_p: null,
    });
    expect(responseProblems(response, "completed")).toEqual([]);
    expect(responseObjectSchema.parse(response)).toEqual(response);
  });

  it("has fresh resp_ and msg_ ids each time", () => {
    const a = newResponseIdentity(request);
    const b = newResponseIdentity(request);
    expect(a.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(a.messageId).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(b.id).not.toBe(a.id);
  });
});

describe("the chat's events as the Responses API's stream", () => {
  it("gives a plugin's reply in the documented order, numbered from 0, its text in one delta", async () => {
    const list = await all(responseEvents(events({ type: "session", sessionId: "s1" }, { type: "reply", reply: pluginReply }), identity, failureOf));
    expect(list.map((event) => [event.sequence_number, event.type])).toEqual([
      [0, "response.created"],
      [1, "response.in_progress"],
      [2, "response.output_item.added"],
      [3, "response.content_part.added"],
      [4, "response.output_text.delta"],
      [5, "response.output_text.done"],
      [6, "response.content_part.done"],
      [7, "response.output_item.done"],
      [8, "response.completed"],
    ]);
    expect(list[4]).toMatchObject({ delta: "14", item_id: "msg_test", output_index: 0, content_index: 0 });
    expect(list[8]).toMatchObject({ response: completedResponse(pluginReply, identity) });
    expectValidStream(list);
  });

  it("streams a model's text in the pieces it wrote, after the tool calls that show nothing, and does not repeat the reply", async () => {
    const list = await all(
      responseEvents(
        events(
          { type: "session", sessionId: "s1" },
          { type: "token", text: "" },
          { type: "tool_call", id: "c1", name: "calculator", arguments: { expression: "17*23" } },
          { type: "tool_result", id: "c1", name: "calculator", outcome: "success", result: 391 },
          { type: "token", text: "17 × 23" },
          { type: "token", text: " = 391" },
          { type: "reply", reply: modelReply("17 × 23 = 391") },
        ),
        identity,
        failureOf,
      ),
    );
    expect(list.filter((event) => event.type === "response.output_text.delta").map((event) => event.delta)).toEqual(["17 × 23", " = 391"]);
    expect(list.find((event) => event.type === "response.output_text.done")).toMatchObject({ text: "17 × 23 = 391" });
    expectValidStream(list);
  });

  it("answers an empty reply with an empty text part and no delta", async () => {
    const list = await all(responseEvents(events({ type: "reply", reply: modelReply("") }), identity, failureOf));
    expect(list.map((event) => event.type)).not.toContain("response.output_text.delta");
    expectValidStream(list);
  });

  it("throws what fails before the first text, having given nothing, so the handler answers it with its status", async () => {
    const stream = responseEvents(events({ type: "session", sessionId: "s1" }, new AppError("plugin_not_found", "no plugin")), identity, failureOf);
    await expect(stream.next()).rejects.toMatchObject({ code: "plugin_not_found" });
  });

  it("ends with response.failed carrying the stable code when the answer fails after it started", async () => {
    const list = await all(
      responseEvents(events({ type: "token", text: "17 × " }, new AppError("llm_unavailable", "the model went away")), identity, failureOf),
    );
    expect(list.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.failed",
    ]);
    expect(list.at(-1)).toMatchObject({
      sequence_number: 5,
      response: {
        status: "failed",
        error: { code: "llm_unavailable", message: "the model went away" },
        output: [{ status: "incomplete", content: [{ text: "17 × " }] }],
      },
    });
    expectValidStream(list);
  });
});

describe("the event stream's text", () => {
  const read = async (body: ReadableStream<Uint8Array>) => new Response(body).text();

  it("names each event by its type, carries the whole event as data, and sends no [DONE]", async () => {
    const source = responseEvents(events({ type: "reply", reply: pluginReply }), identity, failureOf);
    const first = await source.next();
    const text = await read(responseEventStream(first.value as ResponseStreamEvent, source, failureOf));
    expect(text.startsWith('event: response.created\ndata: {"type":"response.created","response":')).toBe(true);
    expect(text).not.toContain("[DONE]");
    expect(streamProblems(parseEventStream(text))).toEqual([]);
  });

  it("ends with OpenAI's error event, numbered next, should the source itself fail", async () => {
    // biome-ignore lint/correctness/useYield: a source that fails before its first event
    async function* broken(): AsyncGenerator<ResponseStreamEvent, void> {
      throw new AppError("internal_error", "broken");
    }
    const first = (await all(responseEvents(events({ type: "reply", reply: pluginReply }), identity, failureOf)))[0]!;
    const sent = parseEventStream(await read(responseEventStream(first, broken(), failureOf)));
    expect(sent.at(-1)).toEqual({ event: "error", data: { type: "error", code: "internal_error", message: "broken", param: null, sequence_number: 1 } });
  });
});
