import type { TokenCredential } from "@azure/identity";
import type { LlmConfig } from "../config/config.js";
import type { Logger } from "../logging/logger.js";
import { AzureOpenAiChatModel } from "./azure_openai_chat_model.js";
import type { ChatModel } from "./chat_model.js";
import type { LlmBackoffOptions } from "./llm_retry.js";
import { OllamaChatModel } from "./ollama_chat_model.js";

/**
 * The configured language model, or undefined when none is (LLM_PROVIDER=none). The credential
 * is asked for only by Azure OpenAI without an API key (the Managed Identity in Azure).
 */
export function createChatModel(
  config: LlmConfig,
  credential: () => TokenCredential,
  logger: Logger,
  options: { readonly backoff?: Partial<LlmBackoffOptions> } = {},
): ChatModel | undefined {
  switch (config.provider) {
    case "none":
      return undefined;
    case "ollama":
      return new OllamaChatModel(config, { logger: logger.child({ llm: "ollama" }), backoff: options.backoff });
    case "azure-openai":
      return new AzureOpenAiChatModel(config, config.apiKey ? undefined : credential(), {
        logger: logger.child({ llm: "azure-openai" }),
        backoff: options.backoff,
      });
  }
}
