import { describe, expect, it } from "vitest";
import { parseEventStream, responseProblems, streamProblems, type SentEvent } from "../../support/responses_stream_rules.js";

/**
 * The rules must accept what OpenAI sends and refuse what breaks its reference: a lenient checker
 * would pass a stream the SDKs cannot read. The stream below is the "Streaming" example of
 * `POST /responses` in OpenAI's OpenAPI document, with the `sequence_number` a recorded stream
 * has and the `logprobs` the event schemas require.
 */
const id = "resp_67c9fdcecf488190bdd9a0409de3a1ec07b8b0ad4e5eb654";
const item_id = "msg_67c9fdcf37fc8190ba82116e33fb28c507b8b0ad4e5eb654";
const text = "Hi there! How can I assist you today?";
const response = (status: string, output: unknown[] = []) => ({
  id,
  object: "response",
  created_at: 1741290958,
  status,
  error: null,
  incomplete_details: null,
  instructions: "You are a helpful assistant.",
  max_output_tokens: null,
  model: "gpt-5.4",
  output,
  parallel_tool_calls: true,
  previous_response_id: null,
  store: true,
  temperature: 1.0,
  tool_choice: "auto",
  tools: [],
  top_p: 1.0,
  metadata: {},
});
const part = (partText: string) => ({ type: "output_text", text: partText, annotations: [] });
const doneItem = { id: item_id, type: "message", status: "completed", role: "assistant", content: [part(text)] };
const at = { item_id, output_index: 0, content_index: 0 };

function documented(): Record<string, unknown>[] {
  return [
    { type: "response.created", response: response("in_progress") },
    { type: "response.in_progress", response: response("in_progress") },
    { type: "response.output_item.added", output_index: 0, item: { id: item_id, type: "message", status: "in_progress", role: "assistant", content: [] } },
    { type: "response.content_part.added", ...at, part: part("") },
    { type: "response.output_text.delta", ...at, delta: "Hi", logprobs: [] },
    { type: "response.output_text.delta", ...at, delta: " there! How can I assist you today?", logprobs: [] },
    { type: "response.output_text.done", ...at, text, logprobs: [] },
    { type: "response.content_part.done", ...at, part: part(text) },
    { type: "response.output_item.done", output_index: 0, item: doneItem },
    { type: "response.completed", response: response("completed", [doneItem]) },
  ].map((event, sequence_number) => structuredClone({ ...event, sequence_number }));
}

const sent = (events: Record<string, unknown>[]): SentEvent[] => events.map((data) => ({ event: String(data.type), data }));
/** The documented stream with one change. */
function changed(change: (events: Record<string, unknown>[]) => void): SentEvent[] {
  const events = documented();
  change(events);
  return sent(events);
}
/** Numbers the events again, from `first`. */
const renumbered = (events: Record<string, unknown>[], first = 0) => {
  for (const [index, event] of events.entries()) event.sequence_number = first + index;
};
/** Removes one event and numbers the rest again. */
const removed = (events: Record<string, unknown>[], index: number) => {
  events.splice(index, 1);
  renumbered(events);
};
/** Sets a field of an event, or of an object inside one. */
const setField = (target: unknown, name: string, value: unknown) => {
  (target as Record<string, unknown>)[name] = value;
};

describe("the Responses stream rules", () => {
  it("accept the documented stream, read from its SSE text", () => {
    const textStream = documented()
      .map((event) => `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`)
      .join("");
    const events = parseEventStream(textStream);
    expect(events).toHaveLength(10);
    expect(streamProblems(events)).toEqual([]);
  });

  it("accept a stream that fails after it started, ending with response.failed", () => {
    const events = documented().slice(0, 5);
    events.push({
      type: "response.failed",
      sequence_number: 5,
      response: { ...response("failed"), error: { code: "server_error", message: "The model failed to generate a response." } },
    });
    expect(streamProblems(sent(events))).toEqual([]);
  });

  it.each<[string, string, (events: Record<string, unknown>[]) => void]>([
    ["a missing sequence_number (spec: required on every event)", "sequence", (events) => void delete events[3]!.sequence_number],
    ["sequence numbers from 1 (recorded: the first is 0)", "sequence", (events) => renumbered(events, 1)],
    ["a repeated sequence number", "sequence", (events) => setField(events[5], "sequence_number", 4)],
    ["a delta without logprobs (spec: ResponseTextDeltaEvent.required)", "fields", (events) => void delete events[4]!.logprobs],
    ["a content part event without item_id", "fields", (events) => void delete events[3]!.item_id],
    ["a response without tools (spec: Response.required)", "response", (events) => void delete (events[0]!.response as Record<string, unknown>).tools],
    ["a created response that is already completed", "response", (events) => setField(events[0]!.response, "status", "completed")],
    ["a response id that changes", "response", (events) => setField(events[9]!.response, "id", "resp_other")],
    ["no response.created first", "order", (events) => removed(events, 0)],
    ["no response.in_progress second", "order", (events) => removed(events, 1)],
    ["a delta before its content part was added", "order", (events) => removed(events, 3)],
    ["text deltas that do not add up to output_text.done", "text", (events) => setField(events[5], "delta", " there!")],
    ["a completed response whose output is not the done items", "text", (events) => setField(events[9]!.response, "output", [])],
    ["an added item that already has content", "item", (events) => setField(events[2]!.item, "content", [part("x")])],
    ["an output message whose role is not the assistant's (spec: OutputMessage)", "item", (events) => setField(events[8]!.item, "role", "user")],
    ["no end event", "end", (events) => void events.pop()],
    ["an event after response.completed", "end", (events) => void events.push({ ...events[4]!, sequence_number: 10 })],
    ["an event type of another API", "fields", (events) => setField(events[4], "type", "content_block_delta")],
  ])("refuse %s", (_label, rule, change) => {
    const problems = streamProblems(changed(change));
    expect(problems.length).toBeGreaterThan(0);
    expect(
      problems.some((problem) => problem.startsWith(`${rule}:`)),
      problems.join("\n"),
    ).toBe(true);
  });

  it("refuse an SSE event name that is not the event's type (spec: each event is named by its type)", () => {
    const events = sent(documented());
    events[4] = { event: "response.text.delta", data: events[4]!.data };
    expect(streamProblems(events)).toEqual(['type: event 4: the SSE event is "response.text.delta" but the type is "response.output_text.delta"']);
  });

  it("refuse a failed response without its error's code, and a completed one with an error", () => {
    expect(responseProblems({ ...response("failed"), error: { message: "boom" } })).toEqual(["response: a failed response's error must be {code, message}"]);
    expect(responseProblems({ ...response("completed"), error: { code: "x", message: "y" } })).toEqual(["response: error must be null unless it failed"]);
    expect(responseProblems(response("completed", [doneItem]), "completed")).toEqual([]);
  });
});
