import { describe, expect, it } from "vitest";
import { ApiError } from "../../../console/src/api_error.js";
import { applyEvent, type Turn } from "../../../console/src/chat_turns.js";
import { formatDuration, inputData } from "../../../console/src/format.js";
import { dataFromDrafts, draftsFromData, fieldKind, type JsonSchema } from "../../../console/src/schema_data.js";
import { readServerSentEvents } from "../../../console/src/sse.js";

/** The web console's logic that needs no page: the event-stream reader, the form ⇄ Input conversions, the chat turn. */

function streamOf(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

async function eventsOf(stream: ReadableStream<Uint8Array>) {
  const events = [];
  for await (const event of readServerSentEvents(stream)) events.push(event);
  return events;
}

describe("readServerSentEvents", () => {
  it("reads the events as the chat sends them, however the bytes are split", async () => {
    const body = 'event: session\ndata: {"sessionId":"s1"}\n\nevent: token\ndata: {"text":"hé"}\n\nevent: reply\ndata: {"reply":{"reply":"hé"}}\n\n';
    const whole = await eventsOf(streamOf(body));
    expect(whole).toEqual([
      { event: "session", data: '{"sessionId":"s1"}' },
      { event: "token", data: '{"text":"hé"}' },
      { event: "reply", data: '{"reply":{"reply":"hé"}}' },
    ]);
    // One byte at a time: a multi-byte character and a line end split across chunks.
    const bytes = [...new TextEncoder().encode(body)];
    const byteStream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });
    expect(await eventsOf(byteStream)).toEqual(whole);
  });

  it("follows the standard's line rules: CRLF and CR, comments, several data lines, no event name", async () => {
    expect(await eventsOf(streamOf(": keep-alive\r\n\r\nevent: a\r\ndata: one\r\ndata: two\r\n\r\ndata:x\r", "\r"))).toEqual([
      { event: "a", data: "one\ntwo" },
      { event: "message", data: "x" },
    ]);
    // An event not ended by a blank line is not dispatched.
    expect(await eventsOf(streamOf("event: a\ndata: cut"))).toEqual([]);
  });
});

describe("the form generated from a plugin's schema", () => {
  const schema: JsonSchema = {
    type: "object",
    properties: {
      task: { type: "string", enum: ["a", "b"] },
      inputs: { type: "string", maxLength: 10000 },
      model: { type: "string", maxLength: 200 },
      parameters: {
        type: "object",
        properties: { top_k: { type: "integer" }, temperature: { type: "number" }, stop: { type: "array" }, sample: { type: "boolean" } },
      },
    },
    required: ["inputs"],
  };

  it("gives each property its kind of field", () => {
    const properties = schema.properties!;
    expect(fieldKind(properties.task!)).toBe("enum");
    expect(fieldKind(properties.inputs!)).toBe("long-text");
    expect(fieldKind(properties.model!)).toBe("text");
    expect(fieldKind(properties.parameters!)).toBe("object");
    expect(fieldKind(properties.parameters!.properties!.top_k!)).toBe("integer");
    expect(fieldKind(properties.parameters!.properties!.stop!)).toBe("json");
    expect(fieldKind(properties.parameters!.properties!.sample!)).toBe("boolean");
  });

  it("turns what was typed into the JSON value sent, leaving empty fields out and numbers that do not parse as text", () => {
    expect(
      dataFromDrafts(schema, {
        task: "b",
        inputs: "hello",
        model: "",
        "parameters.top_k": "5",
        "parameters.temperature": "0.5e",
        "parameters.stop": '["."]',
        "parameters.sample": true,
      }),
    ).toEqual({ task: "b", inputs: "hello", parameters: { top_k: 5, temperature: "0.5e", stop: ["."], sample: true } });
    expect(dataFromDrafts(schema, { "parameters.top_k": "" })).toEqual({});
  });

  it("shows an object typed into Input in the fields, and back to the same object", () => {
    const value = { task: "a", inputs: "text", parameters: { top_k: 3, stop: ["x"], sample: false } };
    const drafts = draftsFromData(schema, value);
    expect(drafts).toEqual({ task: "a", inputs: "text", "parameters.top_k": "3", "parameters.stop": '["x"]', "parameters.sample": false });
    expect(dataFromDrafts(schema, drafts)).toEqual(value);
  });
});

describe("inputData: what the raw Input field sends", () => {
  it.each([
    ["", undefined],
    ["   ", undefined],
    ["2+3*4", "2+3*4"],
    ["  note buy milk ", "note buy milk"],
    ["42", "42"],
    ['{"expression":"1+1"}', { expression: "1+1" }],
    ["[1,2]", [1, 2]],
  ])("reads %j as %j, as /run reads its input", (text, data) => {
    expect(inputData(text)).toEqual({ ok: true, data });
  });

  it("refuses text that starts like JSON but does not parse, saying why", () => {
    const read = inputData('{"expression": ');
    expect(read.ok).toBe(false);
    expect(!read.ok && read.message).toMatch(/^Input starts like JSON but is not valid JSON: /);
  });
});

describe("a chat turn as its events arrive", () => {
  it("puts the streamed text and the tool calls in the order they happened, then the reply", () => {
    const events = [
      { type: "session", sessionId: "s1" },
      { type: "token", text: "Let me " },
      { type: "token", text: "compute." },
      { type: "tool_call", id: "c1", name: "calculator", arguments: { expression: "17*23" } },
      { type: "tool_result", id: "c1", name: "calculator", outcome: "success", result: 391 },
      { type: "token", text: "It is 391." },
      { type: "reply", reply: { sessionId: "s1", reply: "It is 391.", source: "llm", toolCalls: 1 } },
    ] as const;
    const turn = events.reduce<Turn>((current, event) => applyEvent(current, event), { id: 1, message: "17*23?", parts: [] });
    expect(turn.parts).toEqual([
      { kind: "text", text: "Let me compute." },
      { kind: "tool", id: "c1", name: "calculator", arguments: { expression: "17*23" }, outcome: "success", result: 391, error: undefined },
      { kind: "text", text: "It is 391." },
    ]);
    expect(turn.reply).toMatchObject({ toolCalls: 1 });
  });

  it("shows the reply of a /run turn, which streams no text", () => {
    const turn = applyEvent(
      { id: 1, message: "/run echo hi", parts: [] },
      { type: "reply", reply: { sessionId: "s", reply: "hi", source: "plugin", plugin: "echo" } },
    );
    expect(turn.parts).toEqual([{ kind: "text", text: "hi" }]);
  });

  it("shows a /run that waits for an approver as such, streamed or answered whole, once", () => {
    const awaiting = { state: "awaiting_approval", runId: "r1", plugin: "shell", expiresAt: "2030-01-01T00:00:00.000Z", location: "/api/runs/r1" } as const;
    const reply = { sessionId: "s", reply: "shell has not run: …", source: "plugin", plugin: "shell", runId: "r1", approval: awaiting } as const;
    const start: Turn = { id: 1, message: "/run shell ls", parts: [] };
    const streamed = applyEvent(applyEvent(start, { type: "awaiting_approval", ...awaiting }), { type: "reply", reply });
    expect(streamed.parts).toEqual([{ kind: "approval", awaiting }]);
    expect(applyEvent(start, { type: "reply", reply }).parts).toEqual([{ kind: "approval", awaiting }]);
  });

  it("keeps an API error's code and message", () => {
    const error = new ApiError(503, "llm_unavailable", "no model");
    expect(error).toMatchObject({ status: 503, code: "llm_unavailable", message: "no model", name: "ApiError" });
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0 ms"],
    [12.4, "12 ms"],
    [1500, "1.5 s"],
    [5000, "5 s"],
    [120000, "120 s"],
  ])("shows %d ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
