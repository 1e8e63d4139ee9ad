import type { ChatCompletion as SdkChatCompletion, ChatCompletionChunk as SdkChatCompletionChunk } from "openai/resources/chat/completions";
import { describe, expect, it } from "vitest";
import type { ChatEvent, ChatReply } from "../../../src/chat/chat_events.js";
import { AppError } from "../../../src/errors/app_error.js";
import {
  chatCompletion,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionChunks,
  newCompletionIdentity,
  type ChatCompletionChunk,
} from "../../../src/openai_compat/chat_completion_response.js";

const identity = { id: "chatcmpl-test", created: 1_800_000_000, model: "codexcontinue" };
const pluginReply: ChatReply = { sessionId: "s1", reply: "14", source: "plugin", plugin: "calculator", result: 14, runId: "r1" };
const modelReply = (reply: string): ChatReply => ({ sessionId: "s1", reply, source: "llm", toolCalls: 1 });

async function* events(...list: (ChatEvent | Error)[]): AsyncGenerator<ChatEvent, void> {
  for (const event of list) {
    if (event instanceof Error) throw event;
    yield event;
  }
}

async function all(chunks: AsyncGenerator<ChatCompletionChunk, void>): Promise<ChatCompletionChunk[]> {
  const out: ChatCompletionChunk[] = [];
  for await (const chunk of chunks) out.push(chunk);
  return out;
}

const deltas = (chunks: readonly ChatCompletionChunk[]) => chunks.map((chunk) => [chunk.choices[0]!.delta, chunk.choices[0]!.finish_reason]);

describe("a reply as a chat.completion", () => {
  it("is OpenAI's shape, the SDK's type, with the reply as the assistant's message and no usage made up", () => {
    const completion: SdkChatCompletion = chatCompletion(pluginReply, identity);
    expect(completion).toEqual({
      id: "chatcmpl-test",
      object: "chat.completion",
      created: 1_800_000_000,
      model: "codexcontinue",
      choices: [{ index: 0, message: { role: "assistant", content: "14", refusal: null }, logprobs: null, finish_reason: "stop" }],
    });
    expect(chatCompletionSchema.parse(completion)).toEqual(completion);
    expect(Object.keys(completion)).toEqual(["id", "object", "created", "model", "choices"]);
  });

  it("has a fresh id each time, and the time in seconds", () => {
    const a = newCompletionIdentity("codexcontinue", 1_800_000_000_999);
    const b = newCompletionIdentity("codexcontinue");
    expect(a.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(b.id).not.toBe(a.id);
    expect(a).toMatchObject({ created: 1_800_000_000, model: "codexcontinue" });
  });
});

describe("the chat's events as chat.completion.chunks", () => {
  it("streams the model's text as it comes: the role first, a delta per token, then stop; the tool calls on the way show nothing", async () => {
    const chunks = await all(
      completionChunks(
        events(
          { type: "session", sessionId: "s1" },
          { type: "tool_call", id: "c1", name: "calculator", arguments: { expression: "17*23" } },
          { type: "tool_result", id: "c1", name: "calculator", outcome: "success", result: 391 },
          { type: "token", text: "17 × 23" },
          { type: "token", text: "" },
          { type: "token", text: " = 391" },
          { type: "reply", reply: modelReply("17 × 23 = 391") },
        ),
        identity,
      ),
    );
    expect(deltas(chunks)).toEqual([
      [{ role: "assistant", content: "" }, null],
      [{ content: "17 × 23" }, null],
      [{ content: " = 391" }, null],
      [{}, "stop"],
    ]);
    for (const chunk of chunks) {
      const typed: SdkChatCompletionChunk = chunk;
      expect(chatCompletionChunkSchema.parse(typed)).toEqual(chunk);
      expect(chunk).toMatchObject({ ...identity, object: "chat.completion.chunk" });
    }
  });

  it("gives a reply that was not streamed (a plugin's) whole, in one delta", async () => {
    const chunks = await all(completionChunks(events({ type: "session", sessionId: "s1" }, { type: "reply", reply: pluginReply }), identity));
    expect(deltas(chunks)).toEqual([
      [{ role: "assistant", content: "" }, null],
      [{ content: "14" }, null],
      [{}, "stop"],
    ]);
  });

  it("sends no content delta for an empty reply", async () => {
    const chunks = await all(completionChunks(events({ type: "reply", reply: modelReply("") }), identity));
    expect(deltas(chunks)).toEqual([
      [{ role: "assistant", content: "" }, null],
      [{}, "stop"],
    ]);
  });

  it("yields nothing before a failure that comes before the answer starts, so that it can still be an HTTP error", async () => {
    const failure = new AppError("llm_unavailable", "no language model is configured");
    const chunks = completionChunks(
      events({ type: "session", sessionId: "s1" }, { type: "tool_call", id: "c1", name: "calculator", arguments: {} }, failure),
      identity,
    );
    await expect(chunks.next()).rejects.toBe(failure);
  });

  it("passes a failure after the start on, after the chunks already given", async () => {
    const failure = new AppError("llm_unavailable", "the model went away");
    const chunks = completionChunks(events({ type: "token", text: "par" }, failure), identity);
    expect((await chunks.next()).value).toMatchObject({ choices: [{ delta: { role: "assistant" } }] });
    expect((await chunks.next()).value).toMatchObject({ choices: [{ delta: { content: "par" } }] });
    await expect(chunks.next()).rejects.toBe(failure);
  });

  it("stops the chat's events when the client stops reading", async () => {
    let finished = false;
    async function* source(): AsyncGenerator<ChatEvent, void> {
      try {
        yield { type: "token", text: "a" };
        yield { type: "token", text: "b" };
      } finally {
        finished = true;
      }
    }
    const chunks = completionChunks(source(), identity);
    await chunks.next();
    await chunks.return(undefined);
    expect(finished).toBe(true);
  });
});
