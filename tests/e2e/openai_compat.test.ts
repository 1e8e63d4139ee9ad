import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { localCaller } from "../../src/auth/caller.js";
import { sessionRef } from "../../src/memory/session_ref.js";
import { chatCompletionChunkSchema, chatCompletionSchema } from "../../src/openai_compat/chat_completion_response.js";
import { openAiModelListSchema } from "../../src/openai_compat/models.js";
import { openAiErrorBodySchema } from "../../src/openai_compat/openai_error.js";
import { callApi } from "../support/api_client.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";
import { openAiClient, sdkError, useOpenAiCompatHosts } from "../support/openai_compat_hosts.js";

/**
 * The OpenAI-compatible face (`/api/v1`) over real HTTP, spoken to by the official `openai` SDK as
 * it is, with nothing but its options (baseURL, apiKey, maxRetries, headers): the models, a
 * plugin run by `/run`, a tool-using answer of the language model (the stand-in of
 * tests/support/llm_stand_in.ts, as strict as OpenAI), streamed and not, and the errors as the
 * SDK raises them. Each host listens on a free port of its own (port 0).
 */
const llm = useLlmStandIn();
const hosts = useOpenAiCompatHosts(llm, "api://codex-openai-e2e");

/** The content of every chunk of a stream, joined, and the chunks themselves. */
async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { chunks, text: chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("") };
}

const runCalculator = { model: "codexcontinue", messages: [{ role: "user" as const, content: "/run calculator 2+3*4" }] };

describe("GET /api/v1/models", () => {
  it("lists codexcontinue in OpenAI's list shape", async () => {
    const page = await openAiClient(hosts.withoutModel).models.list();
    expect(page.data.map((model) => model.id)).toContain("codexcontinue");
    expect(page.data[0]).toMatchObject({ object: "model", created: expect.any(Number), owned_by: expect.any(String) });
    const raw = await callApi(hosts.withoutModel.host.url, "GET", "/api/v1/models");
    expect(openAiModelListSchema.parse(raw.body)).toEqual(raw.body);
  });
});

describe("POST /api/v1/chat/completions with /run", () => {
  it("answers /run calculator 2+3*4 with 14 as a chat.completion", async () => {
    const completion = await openAiClient(hosts.withoutModel).chat.completions.create(runCalculator);
    expect(completion.choices[0]?.message.content).toBe("14");
    expect(completion).toMatchObject({
      object: "chat.completion",
      model: "codexcontinue",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant" } }],
    });
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.usage).toBeUndefined();
    expect(chatCompletionSchema.parse(completion)).toEqual(completion);
  });

  it("streams the same as chat.completion.chunk events: the role, the text, then finish_reason stop", async () => {
    const { chunks, text } = await collect(await openAiClient(hosts.withoutModel).chat.completions.create({ ...runCalculator, stream: true }));
    expect(text).toBe("14");
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: "assistant", content: "" });
    expect(chunks.at(-1)?.choices[0]).toMatchObject({ delta: {}, finish_reason: "stop" });
    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    for (const chunk of chunks) expect(chatCompletionChunkSchema.parse(chunk)).toEqual(chunk);
  });

  it("ends the event stream with data: [DONE] and names no event (as OpenAI streams)", async () => {
    const raw = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/chat/completions", { body: { ...runCalculator, stream: true } });
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(raw.text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(raw.text).not.toMatch(/^event:/m);
  });
});

describe("POST /api/v1/chat/completions with a language model", () => {
  const question = { model: "codexcontinue", messages: [{ role: "user" as const, content: "What is 17*23? Use the calculator." }] };

  it("answers 'What is 17*23? Use the calculator.' with 391 from a calculator call run on the server", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`17 × 23 = ${request.toolResults[0]?.content}`));
    const completion = await openAiClient(hosts.withModel).chat.completions.create(question);
    expect(completion.choices[0]?.message.content).toBe("17 × 23 = 391");
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    expect(llm.chatRequests).toHaveLength(2);
    expect(llm.chatRequests[0]?.toolNames).toContain("calculator");
    expect(llm.refusedRequests).toEqual([]);
  });

  it("streams it, the text in the pieces the model wrote it in", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) =>
      reply.text(`17 × 23 = ${request.toolResults[0]?.content}`, { chunks: ["17 × 23", " = ", String(request.toolResults[0]?.content)] }),
    );
    const { chunks, text } = await collect(await openAiClient(hosts.withModel).chat.completions.create({ ...question, stream: true }));
    expect(text).toBe("17 × 23 = 391");
    expect(chunks.map((chunk) => chunk.choices[0]?.delta?.content).filter((content) => content)).toEqual(["17 × 23", " = ", "391"]);
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
  });

  it("gives the model the earlier messages of the request as the history, after its own system prompt", async () => {
    llm.script(reply.text("Blue, you said."));
    const completion = await openAiClient(hosts.withModel).chat.completions.create({
      model: "codexcontinue",
      messages: [
        { role: "system", content: "Answer in three words." },
        { role: "user", content: "My favourite colour is blue." },
        { role: "assistant", content: "Noted, blue." },
        { role: "user", content: [{ type: "text", text: "What is my favourite colour?" }] },
      ],
      temperature: 0.2,
      max_tokens: 50,
      user: "someone",
    });
    expect(completion.choices[0]?.message.content).toBe("Blue, you said.");
    const sent = llm.chatRequests[0]!.messages.map((message) => [message.role, message.content]);
    expect(sent.slice(1)).toEqual([
      ["system", "Answer in three words."],
      ["user", "My favourite colour is blue."],
      ["assistant", "Noted, blue."],
      ["user", "What is my favourite colour?"],
    ]);
    expect(sent[0]?.[0]).toBe("system");
  });

  it("records the turn in the session x-session-id names: its audit log and memory, with the request's history given to the model rather than the memory's", async () => {
    const sessionId = `openai-${Date.now()}`;
    const client = openAiClient(hosts.withModel, { defaultHeaders: { "x-session-id": sessionId } });
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`It is ${request.toolResults[0]?.content}.`));
    await client.chat.completions.create(question);
    const audit = await callApi(hosts.withModel.host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.map((entry: any) => entry.type)).toEqual(["user_message", "tool_call", "plugin_run", "reply"]);
    expect(audit.body.entries[0]).toMatchObject({ content: "What is 17*23? Use the calculator." });
    expect(audit.body.entries[2]).toMatchObject({ plugin: "calculator", result: 391, outcome: "success" });
    expect(audit.body.entries[3]).toMatchObject({ content: "It is 391.", source: "llm", outcome: "success" });
    const memory = await hosts.withModel.services.memory.recent(sessionRef(localCaller, sessionId));
    expect(memory.map((message) => [message.role, message.content])).toEqual([
      ["user", "What is 17*23? Use the calculator."],
      ["assistant", "It is 391."],
    ]);

    // The next request sends the conversation itself; the session's memory is not added to it a second time.
    llm.script(reply.text("You asked about 17*23."));
    await client.chat.completions.create({
      model: "codexcontinue",
      messages: [...question.messages, { role: "assistant", content: "It is 391." }, { role: "user", content: "What did I ask?" }],
    });
    expect(
      llm.chatRequests
        .at(-1)!
        .messages.filter((message) => message.role !== "system")
        .map((message) => message.content),
    ).toEqual(["What is 17*23? Use the calculator.", "It is 391.", "What did I ask?"]);
    const after = await callApi(hosts.withModel.host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(after.body.entries.map((entry: any) => entry.type)).toEqual(["user_message", "tool_call", "plugin_run", "reply", "user_message", "reply"]);
  });

  it("records a /run turn in the session's audit log too", async () => {
    const sessionId = `openai-run-${Date.now()}`;
    const completion = await openAiClient(hosts.withModel).chat.completions.create(runCalculator, { headers: { "x-session-id": sessionId } });
    expect(completion.choices[0]?.message.content).toBe("14");
    const audit = await callApi(hosts.withModel.host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.map((entry: any) => [entry.type, entry.outcome])).toEqual([
      ["user_message", undefined],
      ["plugin_run", "success"],
      ["reply", "success"],
    ]);
  });
});

describe("errors, as the SDK raises them", () => {
  // No retries: the SDK would otherwise send a 503 (and a 429) again, twice, before it raises.
  const once = { maxRetries: 0 };

  it("raises the SDK's 503 for free text when no language model is configured, streamed or not (the client set to maxRetries: 0)", async () => {
    const ask = { model: "codexcontinue", messages: [{ role: "user" as const, content: "hello there" }] };
    const plain = await sdkError(openAiClient(hosts.withoutModel, once).chat.completions.create(ask));
    expect(plain).toBeInstanceOf(OpenAI.InternalServerError);
    expect(plain).toMatchObject({ status: 503, code: "llm_unavailable", type: "server_error" });
    const streamed = await sdkError(openAiClient(hosts.withoutModel, once).chat.completions.create({ ...ask, stream: true }));
    expect(streamed).toMatchObject({ status: 503, code: "llm_unavailable" });
  });

  it("raises NotFoundError 404 model_not_found for a model it does not serve", async () => {
    const error = await sdkError(openAiClient(hosts.withoutModel).chat.completions.create({ ...runCalculator, model: "gpt-4o" }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", param: "model", type: "invalid_request_error" });
  });

  it("raises BadRequestError 400 for a body OpenAI would refuse, naming the field", async () => {
    const lastNotUser = await sdkError(
      openAiClient(hosts.withoutModel).chat.completions.create({ model: "codexcontinue", messages: [{ role: "assistant", content: "hi" }] }),
    );
    expect(lastNotUser).toBeInstanceOf(OpenAI.BadRequestError);
    expect(lastNotUser).toMatchObject({ status: 400, code: "invalid_request", param: "messages[0].role", type: "invalid_request_error" });
    const image = await sdkError(
      openAiClient(hosts.withoutModel).chat.completions.create({
        model: "codexcontinue",
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://example.com/a.png" } }] }],
      }),
    );
    expect(image).toMatchObject({ status: 400, param: "messages[0].content[0].type" });
  });

  it.each([
    ["not JSON", "{", null],
    ["no messages", { model: "codexcontinue" }, "messages"],
    ["an unknown role", { model: "codexcontinue", messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    ["content of the wrong type", { model: "codexcontinue", messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    ["stream not a boolean", { ...runCalculator, stream: "yes" }, "stream"],
    ["a temperature that is not a number", { ...runCalculator, temperature: "hot" }, "temperature"],
    ["a bad x-session-id", runCalculator, null, { "x-session-id": "not a session id" }],
  ] as [string, unknown, string | null, Record<string, string>?][])("answers 400 in OpenAI's error shape for %s", async (_name, body, param, headers = {}) => {
    const answer = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/chat/completions", { body, headers });
    expect(answer.status).toBe(400);
    expect(openAiErrorBodySchema.parse(answer.body)).toEqual(answer.body);
    expect(answer.body.error).toMatchObject({ type: "invalid_request_error", param, message: expect.any(String) });
  });

  it("answers the wrapper's and the host's refusals in OpenAI's shape too: 413, 403 origin, 429 with Retry-After", async () => {
    const tooLarge = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/chat/completions", {
      body: { model: "codexcontinue", messages: [{ role: "user", content: "x".repeat(5000) }] },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "payload_too_large" } });

    const foreign = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/chat/completions", {
      body: runCalculator,
      headers: { origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatchObject({ type: "permission_error", code: "origin_not_allowed" });

    const client = openAiClient(hosts.limited, once);
    expect((await client.chat.completions.create(runCalculator)).choices[0]?.message.content).toBe("14");
    const limitedError = await sdkError(client.chat.completions.create(runCalculator));
    expect(limitedError).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limitedError).toMatchObject({ status: 429, code: "rate_limited", type: "rate_limit_error" });
    expect(Number(limitedError.headers?.get("retry-after"))).toBeGreaterThan(0);
  });

  it("leaves the other routes' errors in the project's own shape", async () => {
    const answer = await callApi(hosts.withoutModel.host.url, "POST", "/api/chat", { body: { message: "" } });
    expect(answer.body).toMatchObject({ status: "error", error: { code: "invalid_request" } });
  });
});

describe("AUTH_MODE=jwt: the SDK's apiKey is the caller's bearer token", () => {
  it("raises AuthenticationError 401 without a token and with one that is not valid", async () => {
    const missing = await sdkError(openAiClient(hosts.jwt, { defaultHeaders: { Authorization: null } }).chat.completions.create(runCalculator));
    expect(missing).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(missing).toMatchObject({ status: 401, code: "unauthorized", type: "authentication_error" });
    expect(missing.headers?.get("www-authenticate")).toMatch(/^Bearer/);
    const bad = await sdkError(openAiClient(hosts.jwt, { apiKey: "not-a-token" }).models.list());
    expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);
    const foreign = await sdkError(
      openAiClient(hosts.jwt, { apiKey: await hosts.issuer.token("alice-oid", "api://another-app") }).chat.completions.create(runCalculator),
    );
    expect(foreign.status).toBe(401);
  });

  it("answers a caller with a valid token, and records its session under its own principal", async () => {
    const token = await hosts.issuer.token("alice-oid", hosts.audience);
    const sessionId = `openai-jwt-${Date.now()}`;
    const client = openAiClient(hosts.jwt, { apiKey: token, defaultHeaders: { "x-session-id": sessionId } });
    expect((await client.models.list()).data.map((model) => model.id)).toContain("codexcontinue");
    expect((await client.chat.completions.create(runCalculator)).choices[0]?.message.content).toBe("14");
    const own = await callApi(hosts.jwt.host.url, "GET", `/api/memory/audit/${sessionId}`, { token });
    expect(own.body.entries.map((entry: any) => entry.type)).toEqual(["user_message", "plugin_run", "reply"]);
    const other = await callApi(hosts.jwt.host.url, "GET", `/api/memory/audit/${sessionId}`, { token: await hosts.issuer.token("bob-oid", hosts.audience) });
    expect(other.body.entries).toEqual([]);
  });
});
