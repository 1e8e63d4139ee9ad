import { randomUUID } from "node:crypto";
import { z } from "zod";
import type { ChatEvent, ChatReply } from "../chat/chat_events.js";

/** `POST /api/v1/chat/completions`: the JSON answer. */
export const chatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number().int().meta({ description: "Unix seconds." }),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
        logprobs: z.null(),
        finish_reason: z.literal("stop"),
      }),
    ),
  })
  .meta({ id: "ChatCompletion" });

/** `POST /api/v1/chat/completions` with `stream: true`: the data of each server-sent event but the last, `[DONE]`. */
export const chatCompletionChunkSchema = z
  .object({
    id: z.string().meta({ description: "The same in every chunk of one answer." }),
    object: z.literal("chat.completion.chunk"),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }).meta({
          description: "The first chunk has the role, the next ones the text as the model writes it (a plugin's reply comes whole), the last one nothing.",
        }),
        logprobs: z.null(),
        finish_reason: z.literal("stop").nullable().meta({ description: "`stop` in the last chunk." }),
      }),
    ),
  })
  .meta({ id: "ChatCompletionChunk" });

export type ChatCompletion = z.infer<typeof chatCompletionSchema>;
export type ChatCompletionChunk = z.infer<typeof chatCompletionChunkSchema>;

/** What every chunk of one answer (or the one completion) says alike. */
export interface CompletionIdentity {
  readonly id: string;
  /** Unix seconds. */
  readonly created: number;
  readonly model: string;
}

export function newCompletionIdentity(model: string, now = Date.now()): CompletionIdentity {
  return { id: `chatcmpl-${randomUUID().replaceAll("-", "")}`, created: Math.floor(now / 1000), model };
}

/**
 * The reply as OpenAI's `chat.completion`. Without `usage`: the answer may take several model
 * turns, or none (a plugin's), and no count is made up.
 */
export function chatCompletion(reply: ChatReply, identity: CompletionIdentity): ChatCompletion {
  return {
    id: identity.id,
    object: "chat.completion",
    created: identity.created,
    model: identity.model,
    choices: [{ index: 0, message: { role: "assistant", content: reply.reply, refusal: null }, logprobs: null, finish_reason: "stop" }],
  };
}

function completionChunk(
  identity: CompletionIdentity,
  delta: ChatCompletionChunk["choices"][number]["delta"],
  finish: "stop" | null = null,
): ChatCompletionChunk {
  const { id, created, model } = identity;
  return { id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] };
}

/**
 * A chat turn's events as OpenAI's chunks. Nothing comes out until the answer itself starts (the
 * model's first text, or the reply), so that whatever fails before it (no model configured, an
 * unknown plugin, invalid input) can still be answered as an HTTP error with its status; the tool
 * calls on the way run on the server and show nothing. Then: the role, the text as the model
 * writes it (a plugin's reply, or a model's that was not streamed, whole), and the end.
 */
export async function* completionChunks(events: AsyncIterable<ChatEvent>, identity: CompletionIdentity): AsyncGenerator<ChatCompletionChunk, void> {
  let started = false;
  let streamed = false;
  for await (const event of events) {
    if (event.type !== "token" && event.type !== "reply") continue;
    if (!started) {
      started = true;
      yield completionChunk(identity, { role: "assistant", content: "" });
    }
    if (event.type === "token") {
      if (event.text === "") continue;
      streamed = true;
      yield completionChunk(identity, { content: event.text });
      continue;
    }
    if (!streamed && event.reply.reply !== "") yield completionChunk(identity, { content: event.reply.reply });
    yield completionChunk(identity, {}, "stop");
  }
}
