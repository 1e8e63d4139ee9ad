import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { describe, expect, it, vi } from "vitest";
import type { AppError } from "../../../src/errors/app_error.js";
import type { LlmRequest, LlmStreamEvent } from "../../../src/llm/chat_model.js";
import { safeUpstreamMessage } from "../../../src/llm/llm_failure.js";
import {
  OpenAiCompatibleChatModel,
  azureOpenAiScope,
  parseToolArguments,
  type AzureOpenAiLlmConfig,
  type OllamaLlmConfig,
} from "../../../src/llm/openai_compatible_chat_model.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { reply, useLlmStandIn } from "../../support/llm_stand_in.js";

const apiKey = "sk-secret-0123456789";
const tools = [
  {
    name: "calculator",
    description: "Evaluates an arithmetic expression",
    parameters: { type: "object", properties: { expression: { type: "string" } }, required: ["expression"] },
  },
];
const ask = (content: string, extra: Partial<LlmRequest> = {}): LlmRequest => ({ messages: [{ role: "user", content }], tools: [], ...extra });

const llm = useLlmStandIn();

function config(overrides: Partial<AzureOpenAiLlmConfig> = {}): AzureOpenAiLlmConfig {
  return {
    provider: "azure-openai",
    endpoint: `${llm.url}/`,
    deployment: "gpt-4o-chat",
    apiVersion: "2024-10-21",
    apiKey,
    timeoutMs: 2000,
    maxRetries: 2,
    ...overrides,
  };
}

function model(overrides: Partial<AzureOpenAiLlmConfig> = {}): OpenAiCompatibleChatModel {
  return OpenAiCompatibleChatModel.azureOpenAi(config(overrides), undefined);
}

function ollama(overrides: Partial<OllamaLlmConfig> = {}): OpenAiCompatibleChatModel {
  return OpenAiCompatibleChatModel.ollama({ provider: "ollama", baseUrl: `${llm.url}/`, model: "llama3.1", timeoutMs: 2000, maxRetries: 2, ...overrides });
}

/** A stand-in for the Managed Identity: always the same token. */
function fixedCredential(token = "tok-123"): TokenCredential & { scopes: (string | string[])[] } {
  const scopes: (string | string[])[] = [];
  return {
    scopes,
    getToken: async (scope: string | string[], _options?: GetTokenOptions): Promise<AccessToken> => {
      scopes.push(scope);
      return { token, expiresOnTimestamp: Date.now() + 3600e3 };
    },
  };
}

async function collect(events: AsyncIterable<LlmStreamEvent>): Promise<LlmStreamEvent[]> {
  const all: LlmStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

function everythingShown(error: AppError): string {
  return `${error.name} ${error.message} ${JSON.stringify(error.details)} ${String(error.cause ?? "")}`;
}

describe("OpenAiCompatibleChatModel on Azure OpenAI", () => {
  it("answers a plain question through the deployment's chat completions, with the api-key header", async () => {
    llm.script(reply.text("Paris."));
    const response = await model().complete({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
      tools: [],
    });
    expect(response).toEqual({ content: "Paris.", toolCalls: [] });
    const request = llm.requests[0]!;
    expect(request).toMatchObject({
      method: "POST",
      path: "/openai/deployments/gpt-4o-chat/chat/completions",
      apiVersion: "2024-10-21",
      apiKey,
      authorization: undefined,
      stream: false,
    });
    expect(request.body).toMatchObject({
      model: "gpt-4o-chat",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Capital of France?" },
      ],
    });
    expect(request.body!.tools).toBeUndefined();
    expect(model().model).toBe("gpt-4o-chat");
    expect(model().provider).toBe("azure-openai");
  });

  it("offers tools and parses tool-call arguments from their JSON text", async () => {
    llm.script(reply.toolCall("calculator", { expression: "6*7" }, { id: "call_abc" }));
    const response = await model().complete(ask("6*7?", { tools }));
    expect(response).toEqual({ content: "", toolCalls: [{ id: "call_abc", name: "calculator", arguments: { expression: "6*7" } }] });
    expect(llm.requests[0]!.body!.tools).toEqual([{ type: "function", function: { ...tools[0] } }]);
  });

  it("reports arguments that are not valid JSON instead of failing", async () => {
    llm.script(reply.toolCall("calculator", '{"expression": "6*7"', { raw: true, id: "call_bad" }));
    const [call] = (await model().complete(ask("6*7?", { tools }))).toolCalls;
    expect(call).toMatchObject({ id: "call_bad", name: "calculator", arguments: undefined });
    expect(call?.argumentsError).toEqual(expect.any(String));
    expect(call?.argumentsError?.length).toBeLessThanOrEqual(201);
  });

  it("sends tool calls and tool results back in Azure OpenAI's format", async () => {
    llm.script((request) => reply.text(`the result is ${request.toolResults[0]?.content} for ${request.toolResults[0]?.toolCallId}`));
    const response = await model().complete({
      messages: [
        { role: "user", content: "what is 6*7?" },
        {
          role: "assistant",
          content: "",
          toolCalls: [
            { id: "call_abc", name: "calculator", arguments: { expression: "6*7" } },
            { id: "call_bad", name: "calculator", arguments: undefined, argumentsError: "not JSON" },
          ],
        },
        { role: "tool", toolCallId: "call_abc", name: "calculator", content: '{"value":42}' },
        { role: "tool", toolCallId: "call_bad", name: "calculator", content: "error (invalid_input): not JSON" },
      ],
      tools,
    });
    expect(response.content).toBe('the result is {"value":42} for call_abc');
    expect(llm.requests[0]!.body!.messages).toEqual([
      { role: "user", content: "what is 6*7?" },
      {
        role: "assistant",
        content: "",
        tool_calls: [
          { id: "call_abc", type: "function", function: { name: "calculator", arguments: '{"expression":"6*7"}' } },
          { id: "call_bad", type: "function", function: { name: "calculator", arguments: "{}" } },
        ],
      },
      { role: "tool", tool_call_id: "call_abc", content: '{"value":42}' },
      { role: "tool", tool_call_id: "call_bad", content: "error (invalid_input): not JSON" },
    ]);
  });

  it("streams tokens in order over SSE, then the whole response", async () => {
    llm.script(reply.text("Hello there, world"));
    const events = await collect(model().stream(ask("hi")));
    expect(events).toEqual([
      { type: "token", text: "Hello " },
      { type: "token", text: "there, " },
      { type: "token", text: "world" },
      { type: "done", response: { content: "Hello there, world", toolCalls: [] } },
    ]);
    expect(llm.requests[0]!.stream).toBe(true);
  });

  it("assembles streamed tool-call arguments sent in pieces, per index", async () => {
    llm.script(
      reply.toolCalls(
        [
          { id: "call_1", name: "calculator", arguments: { expression: "(1+2)*3" } },
          { id: "call_2", name: "echo", arguments: { text: "a longer text, in many pieces" } },
          { id: "call_3", name: "calculator", rawArguments: '{"expression": ' },
        ],
        { text: "Working on it.", argumentPieces: 5 },
      ),
    );
    const events = await collect(model().stream(ask("go", { tools })));
    expect(events.filter((e) => e.type === "token")).toEqual([
      { type: "token", text: "Working " },
      { type: "token", text: "on " },
      { type: "token", text: "it." },
    ]);
    const done = events.at(-1);
    expect(done?.type).toBe("done");
    if (done?.type !== "done") return;
    expect(done.response.content).toBe("Working on it.");
    expect(done.response.toolCalls.slice(0, 2)).toEqual([
      { id: "call_1", name: "calculator", arguments: { expression: "(1+2)*3" } },
      { id: "call_2", name: "echo", arguments: { text: "a longer text, in many pieces" } },
    ]);
    expect(done.response.toolCalls[2]).toMatchObject({ id: "call_3", name: "calculator", arguments: undefined, argumentsError: expect.any(String) });
  });

  it("retries a 500 and then answers", async () => {
    llm.script(reply.serverError(), reply.text("ok"));
    expect((await model().complete(ask("hi"))).content).toBe("ok");
    expect(llm.requests).toHaveLength(2);
  });

  it("retries a streamed request that failed before its first token", async () => {
    llm.script(reply.serverError(502), reply.drop(), reply.text("fine"));
    const events = await collect(model().stream(ask("hi")));
    expect(events.at(-1)).toEqual({ type: "done", response: { content: "fine", toolCalls: [] } });
    expect(llm.requests).toHaveLength(3);
  });

  it("waits as long as Retry-After says after a 429", async () => {
    llm.script(reply.rateLimited(1), reply.text("ok"));
    expect((await model().complete(ask("hi"))).content).toBe("ok");
    const [first, second] = llm.requests;
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it("gives up with llm_unavailable after 1 + maxRetries attempts of a persistent 500", async () => {
    llm.answerEveryRequestWith(reply.serverError());
    const error = await failureOf(model({ maxRetries: 3 }).complete(ask("hi")));
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toBe("the language model is unavailable: HTTP 500");
    expect(error.details).toEqual({ provider: "azure-openai", status: 500 });
    expect(llm.requests).toHaveLength(4);
  });

  it("fails with llm_unavailable when the model does not answer in time", async () => {
    llm.answerEveryRequestWith(reply.delay(3000));
    const started = performance.now();
    const error = await failureOf(model({ timeoutMs: 150, maxRetries: 1 }).complete(ask("hi")));
    expect(error.message).toBe("the language model is unavailable: timed out after 150 ms");
    expect(llm.requests).toHaveLength(2);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("leaves a stream that stalls after it started to the caller's signal (the chat deadline), not to a retry", async () => {
    llm.script(reply.text("slow answer here", { chunkDelayMs: 1000 }), reply.text("never"));
    const started = performance.now();
    const error = await failureOf(collect(model({ timeoutMs: 200 }).stream(ask("hi", { signal: AbortSignal.timeout(400) }))));
    expect(error.message).toBe("the language model is unavailable: cancelled");
    expect(performance.now() - started).toBeLessThan(900);
    expect(llm.requests).toHaveLength(1);
  });

  it("stops waiting at once when the caller's signal aborts during the SDK's wait between retries", async () => {
    llm.answerEveryRequestWith(reply.rateLimited(30));
    const started = performance.now();
    const error = await failureOf(model({ maxRetries: 3 }).complete(ask("hi", { signal: AbortSignal.timeout(300) })));
    expect(error.message).toBe("the language model is unavailable: cancelled");
    expect(performance.now() - started).toBeLessThan(1000);
    expect(llm.requests).toHaveLength(1);
  });

  it("fails quickly with llm_unavailable when nothing listens", async () => {
    const port = await freePort();
    const started = performance.now();
    const error = await failureOf(model({ endpoint: `http://127.0.0.1:${port}`, maxRetries: 1 }).complete(ask("hi")));
    expect(error.message).toBe("the language model is unavailable: connection refused");
    expect(error.details).toEqual({ provider: "azure-openai" });
    expect(everythingShown(error)).not.toContain(String(port));
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("does not retry a 400, and keeps the key out of the error even when the upstream echoes it", async () => {
    llm.script(reply.error(400, { message: `Invalid request for key ${apiKey} at https://example.openai.azure.com/x` }), reply.text("never"));
    const error = await failureOf(model().complete(ask("hi")));
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toBe("the language model is unavailable: HTTP 400: Invalid request for key <redacted> at <url>");
    expect(error.details).toEqual({ provider: "azure-openai", status: 400 });
    expect(llm.requests).toHaveLength(1);
  });

  it("fails with llm_unavailable, without retrying, when the answer cannot be read", async () => {
    llm.script(reply.raw("{not json"), reply.raw("<html>gateway</html>", { contentType: "text/html" }), reply.text("never"));
    const first = await failureOf(model().complete(ask("hi")));
    expect(first.message).toBe("the language model is unavailable: malformed response: not JSON");
    const second = await failureOf(model().complete(ask("hi")));
    expect(second.message).toBe("the language model is unavailable: malformed response: no message");
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

  it("with a credential, sends its token as a bearer token and no api-key", async () => {
    const credential = fixedCredential("tok-123");
    llm.script(reply.text("hi"), reply.text("streamed hi"));
    const azure = OpenAiCompatibleChatModel.azureOpenAi(config({ apiKey: undefined }), credential);
    await azure.complete(ask("hello"));
    await collect(azure.stream(ask("hello")));
    for (const request of llm.requests) {
      expect(request.authorization).toBe("Bearer tok-123");
      expect(request.apiKey).toBeUndefined();
    }
    expect([credential.scopes[0]].flat()).toEqual([azureOpenAiScope]);
  });

  it("keeps the bearer token out of errors", async () => {
    llm.script(reply.error(401, { message: "token tok-123 was refused" }));
    const azure = OpenAiCompatibleChatModel.azureOpenAi(config({ apiKey: undefined }), fixedCredential("tok-123"));
    const error = await failureOf(azure.complete(ask("hello")));
    expect(error.message).toBe("the language model is unavailable: HTTP 401: token <redacted> was refused");
    expect(everythingShown(error)).not.toContain("tok-123");
  });

  it("fails without sending anything when no token can be had", async () => {
    const credential: TokenCredential = {
      getToken: async () => {
        throw new Error("ManagedIdentityCredential: no response from http://169.254.169.254/metadata/identity");
      },
    };
    const azure = OpenAiCompatibleChatModel.azureOpenAi(config({ apiKey: undefined }), credential);
    const error = await failureOf(azure.complete(ask("hello")));
    expect(error.message).toBe("the language model is unavailable: could not get an access token");
    expect(everythingShown(error)).not.toContain("169.254");
    expect(llm.requests).toHaveLength(0);
  });

  it("stops at once with reason cancelled when the request's signal aborts", async () => {
    llm.answerEveryRequestWith(reply.delay(5000));
    const controller = new AbortController();
    const pending = failureOf(model().complete(ask("hi", { signal: controller.signal })));
    await llm.waitForRequests(1);
    controller.abort();
    const error = await pending;
    expect(error.message).toBe("the language model is unavailable: cancelled");
    await vi.waitFor(() => expect(llm.requests[0]!.aborted).toBe(true));
    expect(llm.requests).toHaveLength(1);
  });

  it("cancels a streamed answer in the middle (the SDK would end it quietly)", async () => {
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

  it("pings GET /openai/models, which spends no tokens, and fails the ping when it cannot be reached", async () => {
    await model().ping();
    expect(llm.lastRequest).toMatchObject({ method: "GET", path: "/openai/models", apiVersion: "2024-10-21", apiKey, kind: "ping" });
    llm.scriptPing(reply.error(401));
    const error = await failureOf(model().ping());
    expect(error.message).toMatch(/^the language model is unavailable: HTTP 401/);
    expect(llm.requests).toHaveLength(2);
  });
});

describe("OpenAiCompatibleChatModel on Ollama's OpenAI-compatible API", () => {
  it("answers through POST /v1/chat/completions with the model in the body, and no streaming unless asked", async () => {
    llm.script(reply.text("Paris."));
    const response = await ollama().complete(ask("Capital of France?"));
    expect(response).toEqual({ content: "Paris.", toolCalls: [] });
    expect(ollama()).toMatchObject({ provider: "ollama", model: "llama3.1" });
    expect(llm.requests[0]).toMatchObject({ api: "ollama", method: "POST", path: "/v1/chat/completions", stream: false });
    expect(llm.requests[0]!.body).toMatchObject({ model: "llama3.1", messages: [{ role: "user", content: "Capital of France?" }] });
  });

  it("runs a tool round trip through the same code: calls with ids, results by tool_call_id", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }, { id: "call_x" }), (request) => reply.text(`it is ${request.toolResults[0]?.content}`));
    const first = await ollama().complete(ask("17*23?", { tools }));
    expect(first.toolCalls).toEqual([{ id: "call_x", name: "calculator", arguments: { expression: "17*23" } }]);
    const second = await ollama().complete({
      messages: [
        { role: "user", content: "17*23?" },
        { role: "assistant", content: "", toolCalls: first.toolCalls },
        { role: "tool", toolCallId: "call_x", name: "calculator", content: "391" },
      ],
      tools,
    });
    expect(second.content).toBe("it is 391");
    expect(llm.refusedRequests).toEqual([]);
  });

  it("streams tokens and tool calls assembled by index", async () => {
    llm.script(reply.toolCalls([{ id: "call_1", name: "calculator", arguments: { expression: "2+2" } }], { text: "Let me see.", argumentPieces: 4 }));
    const events = await collect(ollama().stream(ask("2+2?", { tools })));
    expect(events.at(-1)).toEqual({
      type: "done",
      response: { content: "Let me see.", toolCalls: [{ id: "call_1", name: "calculator", arguments: { expression: "2+2" } }] },
    });
    expect(llm.requests[0]).toMatchObject({ path: "/v1/chat/completions", stream: true });
  });

  it("retries a 503 with the SDK, and gives up after 1 + maxRetries attempts", async () => {
    llm.script(reply.serverError(503), reply.text("ok"));
    expect((await ollama().complete(ask("hi"))).content).toBe("ok");
    llm.reset();
    llm.answerEveryRequestWith(reply.serverError());
    const error = await failureOf(ollama({ maxRetries: 1 }).complete(ask("hi")));
    expect(error).toMatchObject({
      code: "llm_unavailable",
      message: "the language model is unavailable: HTTP 500",
      details: { provider: "ollama", status: 500 },
    });
    expect(llm.requests).toHaveLength(2);
  });

  it("pings GET /v1/models, and fails the ping when nothing listens", async () => {
    await ollama().ping();
    expect(llm.lastRequest).toMatchObject({ method: "GET", path: "/v1/models", kind: "ping" });
    const port = await freePort();
    const error = await failureOf(ollama({ baseUrl: `http://127.0.0.1:${port}`, maxRetries: 2 }).ping());
    expect(error.message).toBe("the language model is unavailable: connection refused");
  });
});

describe("what is shown of a failure", () => {
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
