import type { TokenCredential } from "@azure/identity";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { createChatModel } from "../../../src/llm/create_chat_model.js";
import { OpenAiCompatibleChatModel } from "../../../src/llm/openai_compatible_chat_model.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { reply, useLlmStandIn } from "../../support/llm_stand_in.js";

const llm = useLlmStandIn();

const limits = { timeoutMs: 2000, maxRetries: 0 };
const unusedCredential = (): TokenCredential => {
  throw new Error("the credential must not be asked for");
};
const ask = { messages: [{ role: "user" as const, content: "hi" }], tools: [] };

describe("createChatModel", () => {
  it("returns undefined when no model is configured", () => {
    expect(createChatModel({ provider: "none" }, unusedCredential, silentLogger)).toBeUndefined();
  });

  it("builds the Ollama model from the configuration", async () => {
    const model = createChatModel({ provider: "ollama", baseUrl: llm.url, model: "qwen2.5", ...limits }, unusedCredential, silentLogger);
    expect(model).toBeInstanceOf(OpenAiCompatibleChatModel);
    expect(model).toMatchObject({ provider: "ollama", model: "qwen2.5" });
    llm.script(reply.text("hello from ollama"));
    expect(await model!.complete(ask)).toEqual({ content: "hello from ollama", toolCalls: [] });
    expect(llm.requests[0]).toMatchObject({ api: "ollama", path: "/v1/chat/completions", body: { model: "qwen2.5" } });
  });

  it("builds Azure OpenAI with an API key without asking for the credential", async () => {
    const model = createChatModel(
      { provider: "azure-openai", endpoint: llm.url, deployment: "chat", apiVersion: "2024-10-21", apiKey: "key-1", ...limits },
      unusedCredential,
      silentLogger,
    );
    expect(model).toBeInstanceOf(OpenAiCompatibleChatModel);
    expect(model).toMatchObject({ provider: "azure-openai", model: "chat" });
    await model!.complete(ask);
    expect(llm.requests[0]).toMatchObject({ api: "azure-openai", deployment: "chat", apiKey: "key-1", authorization: undefined });
  });

  it("builds Azure OpenAI with the credential when there is no key", async () => {
    const credential = vi.fn((): TokenCredential => ({ getToken: async () => ({ token: "tok-123", expiresOnTimestamp: Date.now() + 3600e3 }) }));
    const model = createChatModel(
      { provider: "azure-openai", endpoint: llm.url, deployment: "chat", apiVersion: "2024-10-21", apiKey: undefined, ...limits },
      credential,
      silentLogger,
    );
    await model!.ping();
    expect(credential).toHaveBeenCalledTimes(1);
    expect(llm.requests[0]).toMatchObject({ kind: "ping", authorization: "Bearer tok-123", apiKey: undefined });
  });

  it("hands LLM_TIMEOUT_MS and LLM_MAX_RETRIES to the SDK", async () => {
    const config = loadConfig({ LLM_PROVIDER: "ollama", OLLAMA_BASE_URL: llm.url, LLM_TIMEOUT_MS: "150", LLM_MAX_RETRIES: "1" });
    const model = createChatModel(config.llm, unusedCredential, silentLogger);
    llm.answerEveryRequestWith(reply.delay(2000));
    await expect(model!.complete(ask)).rejects.toMatchObject({ code: "llm_unavailable", message: "the language model is unavailable: timed out after 150 ms" });
    expect(llm.requests).toHaveLength(2);
  });
});
