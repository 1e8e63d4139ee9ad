import type { TokenCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { AzureOpenAiChatModel } from "../../../src/llm/azure_openai_chat_model.js";
import { createChatModel } from "../../../src/llm/create_chat_model.js";
import { parseToolArguments, retryAfterMs, safeUpstreamMessage } from "../../../src/llm/llm_retry.js";
import { OllamaChatModel } from "../../../src/llm/ollama_chat_model.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { LlmStandIn, reply } from "../../support/llm_stand_in.js";

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
    expect(model).toBeInstanceOf(OllamaChatModel);
    expect(model).toMatchObject({ provider: "ollama", model: "qwen2.5" });
    llm.script(reply.text("hello from ollama"));
    expect(await model!.complete(ask)).toEqual({ content: "hello from ollama", toolCalls: [] });
    expect(llm.requests[0]).toMatchObject({ api: "ollama", body: { model: "qwen2.5" } });
  });

  it("builds Azure OpenAI with an API key without asking for the credential", async () => {
    const model = createChatModel(
      { provider: "azure-openai", endpoint: llm.url, deployment: "chat", apiVersion: "2024-10-21", apiKey: "key-1", ...limits },
      unusedCredential,
      silentLogger,
    );
    expect(model).toBeInstanceOf(AzureOpenAiChatModel);
    expect(model).toMatchObject({ provider: "azure-openai", model: "chat" });
    await model!.complete(ask);
    expect(llm.requests[0]).toMatchObject({ api: "azure-openai", deployment: "chat", apiKey: "key-1", authorization: undefined });
  });

  it("builds Azure OpenAI with the credential when there is no key", async () => {
    const credential = vi.fn(
      (): TokenCredential => ({ getToken: async () => ({ token: "tok-123", expiresOnTimestamp: Date.now() + 3600e3 }) }),
    );
    const model = createChatModel(
      { provider: "azure-openai", endpoint: llm.url, deployment: "chat", apiVersion: "2024-10-21", apiKey: undefined, ...limits },
      credential,
      silentLogger,
    );
    await model!.ping();
    expect(credential).toHaveBeenCalledTimes(1);
    expect(llm.requests[0]).toMatchObject({ kind: "ping", authorization: "Bearer tok-123", apiKey: undefined });
  });

  it("takes the limits from LLM_TIMEOUT_MS and LLM_MAX_RETRIES", async () => {
    const config = loadConfig({ LLM_PROVIDER: "ollama", OLLAMA_BASE_URL: llm.url, LLM_TIMEOUT_MS: "150", LLM_MAX_RETRIES: "1" });
    const model = createChatModel(config.llm, unusedCredential, silentLogger, { backoff: { baseDelayMs: 10 } });
    llm.answerEveryRequestWith(reply.delay(2000));
    await expect(model!.complete(ask)).rejects.toMatchObject({ code: "llm_unavailable", message: "the language model is unavailable: timed out after 150 ms" });
    expect(llm.requests).toHaveLength(2);
  });
});

describe("llm_retry helpers", () => {
  it("reads Retry-After as seconds or a date, and retry-after-ms first", () => {
    const headers = (values: Record<string, string>) => new Headers(values);
    expect(retryAfterMs(headers({ "retry-after": "2" }))).toBe(2000);
    expect(retryAfterMs(headers({ "retry-after": "2", "retry-after-ms": "150" }))).toBe(150);
    expect(retryAfterMs(headers({ "retry-after": "Wed, 21 Oct 2015 07:28:05 GMT" }), Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(5000);
    expect(retryAfterMs(headers({ "retry-after": "-5" }))).toBeUndefined();
    expect(retryAfterMs(headers({}))).toBeUndefined();
  });

  it("parses tool arguments, an empty text counting as {}", () => {
    expect(parseToolArguments('{"a":1}')).toEqual({ arguments: { a: 1 } });
    expect(parseToolArguments(" ")).toEqual({ arguments: {} });
    expect(parseToolArguments("{a:1}")).toEqual({ arguments: undefined, argumentsError: expect.stringContaining("JSON") });
  });

  it("makes upstream messages safe to show", () => {
    expect(safeUpstreamMessage("bad key abc123 at https://host.example/path?x=1\n  now", ["abc123"])).toBe("bad key <redacted> at <url> now");
    expect(safeUpstreamMessage("token eyJhbGciOi.eyJzdWIi.c2ln refused")).toBe("token <redacted> refused");
    expect(safeUpstreamMessage("x".repeat(300))).toHaveLength(201);
    expect(safeUpstreamMessage("   ")).toBeUndefined();
  });
});
