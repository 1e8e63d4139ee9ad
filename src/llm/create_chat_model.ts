import type { TokenCredential } from "@azure/identity";
import type { LlmConfig } from "../config/config.js";
import type { Logger } from "../logging/logger.js";
import type { ChatModel } from "./chat_model.js";
import { OpenAiCompatibleChatModel } from "./openai_compatible_chat_model.js";

/**
 * The configured language model, or undefined when none is (LLM_PROVIDER=none). The credential
 * is asked for only by Azure OpenAI without an API key (the Managed Identity in Azure).
 */
export function createChatModel(config: LlmConfig, credential: () => TokenCredential, logger: Logger): ChatModel | undefined {
  switch (config.provider) {
    case "none":
      return undefined;
    case "ollama":
      return OpenAiCompatibleChatModel.ollama(config, logger.child({ llm: "ollama" }));
    case "azure-openai":
      return OpenAiCompatibleChatModel.azureOpenAi(config, config.apiKey ? undefined : credential(), logger.child({ llm: "azure-openai" }));
  }
}
