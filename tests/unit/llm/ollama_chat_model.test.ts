import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import type { LlmRequest, LlmStreamEvent } from "../../../src/llm/chat_model.js";
import { OllamaChatModel, type OllamaLlmConfig } from "../../../src/llm/ollama_chat_model.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { LlmStandIn, reply } from "../../support/llm_stand_in.js";

const backoff = { baseDelayMs: 10, maxDelayMs: 2000 };
const tools = [
  {
    name: "calculator",
    description: "Evaluates an arithmetic expression",
    parameters: { type: "object", properties: { expression: { type: "string" } }, required: ["expression"] },
  },
];
const ask = (content: string, extra: Partial<LlmRequest> = {}): LlmRequest => ({ messages: [{ role: "user", content }], tools: [], ...extra });

let llm: LlmStandIn;

beforeAll(async () => {
  llm = await LlmStandIn.start();
});
afterAll(async () => {
  await llm.close();
});
beforeEach(() => {
  llm.reset();
});

function model(overrides: Partial<OllamaLlmConfig> = {}): OllamaChatModel {
  return new OllamaChatModel({ provider: "ollama", baseUrl: `${llm.url}/`, model: "llama3.1", timeoutMs: 2000, maxRetries: 2, ...overrides }, { backoff });
}

async function collect(events: AsyncIterable<LlmStreamEvent>): Promise<LlmStreamEvent[]> {
  const all: LlmStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe("OllamaChatModel", () => {
  it("answers a plain question through POST /api/chat without streaming", async () => {
    llm.script(reply.text("Paris."));
    const response = await model().complete({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
      tools: [],
    });
    expect(response).toEqual({ content: "Paris.", toolCalls: [] });
    expect(model().provider).toBe("ollama");
    expect(model().model).toBe("llama3.1");
    const request = llm.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.path).toBe("/api/chat");
    expect(request.body).toEqual({
      model: "llama3.1",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
      stream: false,
    });
  });

  it("offers tools in Ollama's shape and reads tool calls with object arguments, numbering their ids", async () => {
    llm.script(
      reply.toolCalls([
        { name: "calculator", arguments: { expression: "6*7" } },
        { name: "echo", arguments: { text: "hi" } },
      ]),
    );
    const response = await model().complete(ask("what is 6*7?", { tools }));
    expect(response.toolCalls).toEqual([
      { id: "call_0", name: "calculator", arguments: { expression: "6*7" } },
      { id: "call_1", name: "echo", arguments: { text: "hi" } },
    ]);
    expect(llm.requests[0]!.body!.tools).toEqual([{ type: "function", function: { ...tools[0] } }]);
  });

  it("tolerates arguments sent as a JSON string, and reports invalid ones", async () => {
    llm.script(
      reply.toolCalls([
        { name: "calculator", rawArguments: '{"expression":"1+1"}' },
        { name: "calculator", rawArguments: '{"expression": 1+' },
      ]),
    );
    const [good, bad] = (await model().complete(ask("sums", { tools }))).toolCalls;
    expect(good).toEqual({ id: "call_0", name: "calculator", arguments: { expression: "1+1" } });
    expect(bad?.arguments).toBeUndefined();
    expect(bad?.argumentsError).toMatch(/JSON/);
  });

  it("sends tool calls and tool results back in Ollama's format", async () => {
    llm.script((request) => reply.text(`the result is ${request.toolResults[0]?.content}`));
    const response = await model().complete({
      messages: [
        { role: "user", content: "what is 6*7?" },
        { role: "assistant", content: "", toolCalls: [{ id: "call_0", name: "calculator", arguments: { expression: "6*7" } }] },
        { role: "tool", toolCallId: "call_0", name: "calculator", content: '{"value":42}' },
      ],
      tools,
    });
    expect(response.content).toBe('the result is {"value":42}');
    expect(llm.requests[0]!.body!.messages).toEqual([
      { role: "user", content: "what is 6*7?" },
      { role: "assistant", content: "", tool_calls: [{ function: { name: "calculator", arguments: { expression: "6*7" } } }] },
      { role: "tool", tool_name: "calculator", content: '{"value":42}' },
    ]);
  });

  it("streams tokens in order, then the whole response", async () => {
    llm.script(reply.text("Hello there, world", { chunks: ["Hel", "lo there", ", world"] }));
    const events = await collect(model().stream(ask("hi")));
    expect(events).toEqual([
      { type: "token", text: "Hel" },
      { type: "token", text: "lo there" },
      { type: "token", text: ", world" },
      { type: "done", response: { content: "Hello there, world", toolCalls: [] } },
    ]);
    expect(llm.requests[0]!.body!.stream).toBe(true);
  });

  it("collects tool calls from a streamed answer", async () => {
    llm.script(reply.toolCall("calculator", { expression: "2+2" }, { text: "Let me compute. " }));
    const events = await collect(model().stream(ask("2+2?", { tools })));
    expect(events.filter((e) => e.type === "token").map((e) => (e.type === "token" ? e.text : ""))).toEqual(["Let ", "me ", "compute. "]);
    expect(events.at(-1)).toEqual({
      type: "done",
      response: { content: "Let me compute. ", toolCalls: [{ id: "call_0", name: "calculator", arguments: { expression: "2+2" } }] },
    });
  });

  it("retries a 500 and then answers", async () => {
    llm.script(reply.serverError(), reply.text("ok"));
    expect((await model().complete(ask("hi"))).content).toBe("ok");
    expect(llm.requests).toHaveLength(2);
  });

  it("retries a dropped connection, streamed too, as long as nothing was yielded", async () => {
    llm.script(reply.drop(), reply.text("after the drop"));
    const events = await collect(model().stream(ask("hi")));
    expect(events.at(-1)).toEqual({ type: "done", response: { content: "after the drop", toolCalls: [] } });
    expect(llm.requests).toHaveLength(2);
  });

  it("waits as long as Retry-After says after a 429", async () => {
    llm.script(reply.rateLimited(1), reply.text("ok"));
    expect((await model().complete(ask("hi"))).content).toBe("ok");
    const [first, second] = llm.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it("gives up with llm_unavailable after 1 + maxRetries attempts of a persistent 500", async () => {
    llm.answerEveryRequestWith(reply.serverError(503));
    const error = await failureOf(model({ maxRetries: 2 }).complete(ask("hi")));
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toBe("the language model is unavailable: HTTP 503");
    expect(error.details).toEqual({ provider: "ollama", status: 503, attempts: 3 });
    expect(llm.requests).toHaveLength(3);
  });

  it("fails with llm_unavailable when the model does not answer in time", async () => {
    llm.answerEveryRequestWith(reply.delay(3000));
    const started = performance.now();
    const error = await failureOf(model({ timeoutMs: 150, maxRetries: 1 }).complete(ask("hi")));
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toBe("the language model is unavailable: timed out after 150 ms");
    expect(llm.requests).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(1500);
    // The stand-in sees the client hang up a moment later.
    await vi.waitFor(() => expect(llm.requests.every((r) => r.aborted)).toBe(true));
  });

  it("fails quickly with llm_unavailable when nothing listens", async () => {
    const port = await freePort();
    const started = performance.now();
    const error = await failureOf(
      new OllamaChatModel({ provider: "ollama", baseUrl: `http://127.0.0.1:${port}`, model: "m", timeoutMs: 2000, maxRetries: 1 }, { backoff }).complete(ask("hi")),
    );
    expect(error.message).toBe("the language model is unavailable: connection refused");
    expect(error.details).toEqual({ provider: "ollama", attempts: 2 });
    expect(JSON.stringify(error.details) + error.message).not.toContain(String(port));
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("does not retry a 400, and says what Ollama said", async () => {
    llm.script(reply.error(400, { message: 'model "llama3.1" does not support tools' }), reply.text("never"));
    const error = await failureOf(model().complete(ask("hi", { tools })));
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toBe('the language model is unavailable: HTTP 400: model "llama3.1" does not support tools');
    expect(error.details).toEqual({ provider: "ollama", status: 400, attempts: 1 });
    expect(llm.requests).toHaveLength(1);
  });

  it("fails with llm_unavailable, without retrying, when the answer cannot be read", async () => {
    llm.script(reply.raw("<html>not json</html>", { contentType: "text/html" }), reply.text("never"));
    const error = await failureOf(model().complete(ask("hi")));
    expect(error.message).toBe("the language model is unavailable: malformed response: not JSON");
    expect(llm.requests).toHaveLength(1);
  });

  it("retries a stream that ends before done, when nothing was yielded yet", async () => {
    llm.script(reply.raw('{"message":{"role":"assistant","content":""},"done":false}\n', { contentType: "application/x-ndjson" }), reply.text("whole"));
    const events = await collect(model().stream(ask("hi")));
    expect(events).toEqual([
      { type: "token", text: "whole" },
      { type: "done", response: { content: "whole", toolCalls: [] } },
    ]);
    expect(llm.requests).toHaveLength(2);
  });

  it("does not retry once tokens were streamed", async () => {
    llm.script(reply.text("one two three four", { dropAfterChunks: 2 }), reply.text("never"));
    const tokens: string[] = [];
    const error = await failureOf(
      (async () => {
        for await (const event of model().stream(ask("hi"))) if (event.type === "token") tokens.push(event.text);
      })(),
    );
    expect(tokens).toEqual(["one ", "two "]);
    expect(error.code).toBe("llm_unavailable");
    expect(llm.requests).toHaveLength(1);
  });

  it("stops at once with reason cancelled when the request's signal aborts, even between attempts", async () => {
    llm.answerEveryRequestWith(reply.rateLimited(10));
    const controller = new AbortController();
    const started = performance.now();
    const pending = failureOf(model().complete(ask("hi", { signal: controller.signal })));
    await llm.waitForRequests(1);
    controller.abort();
    const error = await pending;
    expect(error.message).toBe("the language model is unavailable: cancelled");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(llm.requests).toHaveLength(1);
  });

  it("cancels a streamed answer in the middle", async () => {
    llm.script(reply.text("a b c d e f", { chunkDelayMs: 100 }));
    const controller = new AbortController();
    const tokens: string[] = [];
    const error = await failureOf(
      (async () => {
        for await (const event of model().stream(ask("hi", { signal: controller.signal }))) {
          if (event.type === "token") tokens.push(event.text);
          if (tokens.length === 2) controller.abort();
        }
      })(),
    );
    expect(error.message).toBe("the language model is unavailable: cancelled");
    expect(tokens).toEqual(["a ", "b "]);
  });

  it("pings GET /api/tags, and fails the ping when Ollama cannot answer", async () => {
    await model().ping();
    expect(llm.lastRequest).toMatchObject({ method: "GET", path: "/api/tags", kind: "ping" });
    llm.scriptPing(reply.error(503));
    const error = await failureOf(model().ping());
    expect(error.message).toBe("the language model is unavailable: HTTP 503");
    expect(llm.requests).toHaveLength(2);
  });
});
