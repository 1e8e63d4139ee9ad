import * as z from "zod/mini";
import { settingDocs, wholeNumber } from "./setting.js";

const defaultSystemPrompt =
  "You are the assistant of a chat application. Answer briefly and accurately. When a tool can give an exact answer " +
  "(arithmetic, the session's memory, a command), call it instead of guessing, and base your answer on its result.";

/** A conversation with the language model. */
export const chatSettings = z.pipe(
  z.object({
    CHAT_SYSTEM_PROMPT: z._default(z.string().check(z.maxLength(20_000, "must be at most 20000 characters")), defaultSystemPrompt).register(settingDocs, {
      default: "a short assistant prompt",
      description: "the system prompt of every conversation",
    }),
    CHAT_HISTORY_MAX_MESSAGES: z._default(wholeNumber(0, 1000), 20).register(settingDocs, { description: "recent session messages given to the model" }),
    CHAT_HISTORY_MAX_CHARS: z._default(wholeNumber(0, 1_000_000), 16_000).register(settingDocs, {
      description: "and at most this many characters of them (the newest are kept)",
    }),
    CHAT_MAX_TOOL_STEPS: z
      ._default(wholeNumber(1, 50), 5)
      .register(settingDocs, { description: "model turns that may call tools; one more answers 502 `llm_step_limit`" }),
    // Azure ends an HTTP-triggered function at 230 s; the answer must come before that.
    CHAT_TIMEOUT_MS: z._default(wholeNumber(1000, 225_000), 200_000).register(settingDocs, {
      description: "the whole answer to one message (Azure ends an HTTP-triggered function at 230 s); past it, `llm_unavailable`",
    }),
  }),
  z.transform((env) => ({
    systemPrompt: env.CHAT_SYSTEM_PROMPT,
    /** The most recent messages of the session given to the model, bounded by count and by characters. */
    historyMaxMessages: env.CHAT_HISTORY_MAX_MESSAGES,
    historyMaxChars: env.CHAT_HISTORY_MAX_CHARS,
    /** Model turns that may call tools before the loop gives up. */
    maxToolSteps: env.CHAT_MAX_TOOL_STEPS,
    /** The whole answer, every model turn and tool run included. */
    timeoutMs: env.CHAT_TIMEOUT_MS,
  })),
);
