import type { TokenCredential } from "@azure/identity";
import type { LlmConfig } from "../config/config.js";
import { memoize } from "../lazy/deferred.js";
import type { Logger } from "../logging/logger.js";
import type { ChatModel } from "./chat_model.js";

/**
 * The configured language model, or undefined when none is (LLM_PROVIDER=none), whose client
 * (the openai package, a chunk of its own in the bundle) is imported on its first use: the first
 * free-text chat turn or health check. Built once per process; what createChatModel does then is
 * unchanged.
 */
export function createLazyChatModel(config: LlmConfig, credential: () => TokenCredential, logger: Logger): ChatModel | undefined {
  if (config.provider === "none") return undefined;
  const model = memoize(async () => (await import("./create_chat_model.js")).createChatModel(config, credential, logger)!);
  return {
    provider: config.provider,
    model: config.provider === "ollama" ? config.model : config.deployment,
    complete: async (request) => (await model()).complete(request),
    async *stream(request) {
      yield* (await model()).stream(request);
    },
    ping: async (signal) => (await model()).ping(signal),
  };
}
