import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { describe, expect, it } from "vitest";
import { openAiErrorBodySchema } from "../../src/openai_compat/openai_error.js";
import { responseObjectSchema, responseStreamEventSchema } from "../../src/openai_compat/responses_response.js";
import { callApi } from "../support/api_client.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";
import { openAiClient, sdkError, useOpenAiCompatHosts, type Served } from "../support/openai_compat_hosts.js";
import { parseEventStream, responseProblems, streamProblems } from "../support/responses_stream_rules.js";

/**
 * OpenAI's Responses API (`/api/v1/responses`) over real HTTP, spoken to by the official `openai`
 * SDK as it is, with nothing but its options: a plugin run by `/run`, a tool-using answer of the
 * language model (the stand-in of tests/support/llm_stand_in.ts), streamed and not, every stream
 * checked against OpenAI's reference (tests/support/responses_stream_rules.ts), and the errors as
 * the SDK raises them. Each host listens on a free port of its own.
 */
const llm = useLlmStandIn();
const hosts = useOpenAiCompatHosts(llm, "api://codex-responses-e2e");

/** The events of a stream as the SDK reads them, and the text of their deltas. */
async function collect(stream: AsyncIterable<ResponseStreamEvent>) {
  const events: ResponseStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  const deltas = events.flatMap((event) => (event.type === "response.output_text.delta" ? [event.delta] : []));
  return { events, deltas };
}

/** The stream as it went over the wire, checked against OpenAI's reference. */
async function rawStream(served: Served, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const answer = await callApi(served.host.url, "POST", "/api/v1/responses", { body: { ...body, stream: true }, headers });
  expect(answer.status).toBe(200);
  expect(answer.headers.get("content-type")).toMatch(/^text\/event-stream/);
  const events = parseEventStream(answer.text);
  expect(streamProblems(events)).toEqual([]);
  for (const { data } of events) expect(responseStreamEventSchema.parse(data)).toEqual(data);
  return { text: answer.text, events: events.map((event) => event.data as any) };
}

const runCalculator = { model: "codexcontinue", input: "/run calculator 2+3*4" };
const once = { maxRetries: 0 };

describe("POST /api/v1/responses with /run", () => {
  it("answers /run calculator 2+3*4 with output_text 14 in a completed response", async () => {
    const response = await openAiClient(hosts.withoutModel).responses.create(runCalculator);
    expect(response.output_text).toBe("14");
    expect(response).toMatchObject({ object: "response", status: "completed", model: "codexcontinue", error: null, store: false });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: "message",
        role: "assistant",
        status: "completed",
        content: [{ type: "output_text", text: "14", annotations: [], logprobs: [] }],
      },
    ]);
    expect(response.usage).toBeUndefined();
    const { output_text: _sdkOnly, ...sent } = response;
    expect(responseProblems(sent, "completed")).toEqual([]);
    expect(responseObjectSchema.parse(sent)).toEqual(sent);
  });

  it("answers the same given as a list of input_text message items", async () => {
    const response = await openAiClient(hosts.withoutModel).responses.create({
      model: "codexcontinue",
      input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "/run calculator 2+3*4" }] }],
    });
    expect(response.output_text).toBe("14");
  });

  it("streams it: response.created first, the text in the deltas and in the completed response, response.completed last", async () => {
    const { events, deltas } = await collect(await openAiClient(hosts.withoutModel).responses.create({ ...runCalculator, stream: true }));
    expect(events[0]?.type).toBe("response.created");
    expect(events.at(-1)?.type).toBe("response.completed");
    expect(deltas.join("")).toBe("14");
    const completed = events.at(-1) as Extract<ResponseStreamEvent, { type: "response.completed" }>;
    expect(completed.response.output[0]).toMatchObject({ type: "message", content: [{ type: "output_text", text: "14" }] });
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_event, index) => index));
  });

  it("sends each event named by its type, in the order OpenAI documents, with no [DONE]", async () => {
    const { text, events } = await rawStream(hosts.withoutModel, runCalculator);
    expect(events.map((event) => event.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(text).toMatch(/^event: response\.created\ndata: \{"type":"response\.created"/);
    expect(text).not.toContain("[DONE]");
  });

  it("records the turn in the session x-session-id names, streamed or not", async () => {
    const sessionId = `responses-run-${Date.now()}`;
    const client = openAiClient(hosts.withoutModel, { defaultHeaders: { "x-session-id": sessionId } });
    expect((await client.responses.create(runCalculator)).output_text).toBe("14");
    await collect(await client.responses.create({ model: "codexcontinue", input: "/run echo streamed", stream: true }));
    const audit = await callApi(hosts.withoutModel.host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.map((entry: any) => [entry.type, entry.outcome])).toEqual([
      ["user_message", undefined],
      ["plugin_run", "success"],
      ["reply", "success"],
      ["user_message", undefined],
      ["plugin_run", "success"],
      ["reply", "success"],
    ]);
    expect(audit.body.entries[0]).toMatchObject({ content: "/run calculator 2+3*4" });
  });
});

describe("POST /api/v1/responses with a language model", () => {
  const question = { model: "codexcontinue", input: "What is 17*23?" };

  it("answers 'What is 17*23?' with 391 from a calculator call run on the server", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`17 × 23 = ${request.toolResults[0]?.content}`));
    const response = await openAiClient(hosts.withModel).responses.create(question);
    expect(response.output_text).toBe("17 × 23 = 391");
    expect(response.output).toHaveLength(1);
    expect(llm.chatRequests).toHaveLength(2);
    expect(llm.chatRequests[0]?.toolNames).toContain("calculator");
    expect(llm.chatRequests[1]?.toolResults[0]?.content).toBe("391");
    expect(llm.refusedRequests).toEqual([]);
  });

  it("streams it, the text in the pieces the model wrote it in", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) =>
      reply.text(`17 × 23 = ${request.toolResults[0]?.content}`, { chunks: ["17 × 23", " = ", String(request.toolResults[0]?.content)] }),
    );
    const { events } = await rawStream(hosts.withModel, question);
    expect(events.filter((event) => event.type === "response.output_text.delta").map((event) => event.delta)).toEqual(["17 × 23", " = ", "391"]);
    expect(events.at(-1).response.output[0].content[0].text).toBe("17 × 23 = 391");
  });

  it("gives the model the instructions and the earlier items as the history", async () => {
    llm.script(reply.text("Blue, you said."));
    const response = await openAiClient(hosts.withModel).responses.create({
      model: "codexcontinue",
      instructions: "Answer in three words.",
      input: [
        { role: "user", content: "My favourite colour is blue." },
        { role: "assistant", content: "Noted, blue." },
        { role: "user", content: [{ type: "input_text", text: "What is my favourite colour?" }] },
      ],
      temperature: 0.2,
      max_output_tokens: 50,
      metadata: { client: "e2e" },
      store: false,
    });
    expect(response.output_text).toBe("Blue, you said.");
    expect(response).toMatchObject({ instructions: "Answer in three words.", temperature: 0.2, max_output_tokens: 50, metadata: { client: "e2e" } });
    const sent = llm.chatRequests[0]!.messages.map((message) => [message.role, message.content]);
    expect(sent.slice(1)).toEqual([
      ["system", "Answer in three words."],
      ["user", "My favourite colour is blue."],
      ["assistant", "Noted, blue."],
      ["user", "What is my favourite colour?"],
    ]);
  });

  it("records a model's turn in the session's timeline: the message, the tool call, the run and the reply", async () => {
    const sessionId = `responses-llm-${Date.now()}`;
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`It is ${request.toolResults[0]?.content}.`));
    await openAiClient(hosts.withModel).responses.create(question, { headers: { "x-session-id": sessionId } });
    const audit = await callApi(hosts.withModel.host.url, "GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.map((entry: any) => entry.type)).toEqual(["user_message", "tool_call", "plugin_run", "reply"]);
    expect(audit.body.entries[2]).toMatchObject({ plugin: "calculator", result: 391, outcome: "success" });
    expect(audit.body.entries[3]).toMatchObject({ content: "It is 391.", source: "llm", outcome: "success" });
  });

  it("ends a stream that fails after it began with response.failed carrying the stable code", async () => {
    llm.script(reply.text("a partial answer that", { chunks: ["a ", "partial ", "answer ", "that"], dropAfterChunks: 2 }));
    const { events } = await rawStream(hosts.withModel, { model: "codexcontinue", input: "tell me" });
    expect(events.filter((event) => event.type === "response.output_text.delta").map((event) => event.delta)).toEqual(["a ", "partial "]);
    expect(events.at(-1)).toMatchObject({ type: "response.failed", response: { status: "failed", error: { code: "llm_unavailable" } } });
  });
});

describe("errors, as the SDK raises them", () => {
  it("raises NotFoundError 404 model_not_found for a model it does not serve", async () => {
    const error = await sdkError(openAiClient(hosts.withoutModel).responses.create({ ...runCalculator, model: "gpt-4o" }));
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error).toMatchObject({ status: 404, code: "model_not_found", param: "model", type: "invalid_request_error" });
  });

  it("raises BadRequestError 400 naming previous_response_id: nothing is stored", async () => {
    const error = await sdkError(openAiClient(hosts.withoutModel).responses.create({ ...runCalculator, previous_response_id: "resp_123" }));
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, code: "invalid_request", param: "previous_response_id", type: "invalid_request_error" });
    expect(error.message).toContain("previous_response_id");
  });

  it("raises BadRequestError 400 without input", async () => {
    const error = await sdkError(openAiClient(hosts.withoutModel).responses.create({ model: "codexcontinue" }));
    expect(error).toMatchObject({ status: 400, code: "invalid_request", param: "input" });
  });

  it("raises 503 llm_unavailable for free text when no language model is configured, streamed or not", async () => {
    const ask = { model: "codexcontinue", input: "hello there" };
    expect(await sdkError(openAiClient(hosts.withoutModel, once).responses.create(ask))).toMatchObject({
      status: 503,
      code: "llm_unavailable",
      type: "server_error",
    });
    expect(await sdkError(openAiClient(hosts.withoutModel, once).responses.create({ ...ask, stream: true }))).toMatchObject({
      status: 503,
      code: "llm_unavailable",
    });
  });

  it("answers 404 plugin_not_found for /run of an unknown plugin before any event, streamed or not", async () => {
    const unknown = { model: "codexcontinue", input: "/run nothing-here x" };
    expect(await sdkError(openAiClient(hosts.withoutModel).responses.create(unknown))).toMatchObject({ status: 404, code: "plugin_not_found" });
    expect(await sdkError(openAiClient(hosts.withoutModel).responses.create({ ...unknown, stream: true }))).toMatchObject({
      status: 404,
      code: "plugin_not_found",
    });
  });

  it.each([
    ["not JSON", "{", null],
    [
      "an item reference",
      {
        model: "codexcontinue",
        input: [
          { role: "user", content: "hi" },
          { type: "item_reference", id: "msg_1" },
          { role: "user", content: "x" },
        ],
      },
      "input[1]",
    ],
    ["client tools", { ...runCalculator, tools: [{ type: "function", name: "f", parameters: { type: "object", properties: {} } }] }, "tools"],
    ["conversation", { ...runCalculator, conversation: "conv_1" }, "conversation"],
    [
      "an image",
      { model: "codexcontinue", input: [{ role: "user", content: [{ type: "input_image", image_url: "https://example.com/a.png" }] }] },
      "input[0].content[0].type",
    ],
    ["a bad x-session-id", runCalculator, null, { "x-session-id": "not a session id" }],
  ] as [string, unknown, string | null, Record<string, string>?][])("answers 400 in OpenAI's error shape for %s", async (_name, body, param, headers = {}) => {
    const answer = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/responses", { body, headers });
    expect(answer.status).toBe(400);
    expect(openAiErrorBodySchema.parse(answer.body)).toEqual(answer.body);
    expect(answer.body.error).toMatchObject({ type: "invalid_request_error", param, message: expect.any(String) });
  });

  it("answers the wrapper's and the host's refusals in OpenAI's shape: 413, 403 origin, 429 with Retry-After", async () => {
    const tooLarge = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/responses", { body: { model: "codexcontinue", input: "x".repeat(5000) } });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toEqual({ error: { message: expect.any(String), type: "invalid_request_error", param: null, code: "payload_too_large" } });

    const foreign = await callApi(hosts.withoutModel.host.url, "POST", "/api/v1/responses", {
      body: runCalculator,
      headers: { origin: "http://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatchObject({ type: "permission_error", code: "origin_not_allowed" });

    const client = openAiClient(hosts.limited, once);
    expect((await client.responses.create(runCalculator)).output_text).toBe("14");
    const limitedError = await sdkError(client.responses.create(runCalculator));
    expect(limitedError).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limitedError).toMatchObject({ status: 429, code: "rate_limited", type: "rate_limit_error" });
    expect(Number(limitedError.headers?.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("AUTH_MODE=jwt: the SDK's apiKey is the caller's bearer token", () => {
  it("raises AuthenticationError 401 without a valid token, and answers one with it under its own principal", async () => {
    const missing = await sdkError(openAiClient(hosts.jwt, { defaultHeaders: { Authorization: null } }).responses.create(runCalculator));
    expect(missing).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(missing).toMatchObject({ status: 401, code: "unauthorized", type: "authentication_error" });
    expect(missing.headers?.get("www-authenticate")).toMatch(/^Bearer/);

    const token = await hosts.issuer.token("alice-oid", hosts.audience);
    const sessionId = `responses-jwt-${Date.now()}`;
    const client = openAiClient(hosts.jwt, { apiKey: token, defaultHeaders: { "x-session-id": sessionId } });
    expect((await client.responses.create(runCalculator)).output_text).toBe("14");
    const own = await callApi(hosts.jwt.host.url, "GET", `/api/memory/audit/${sessionId}`, { token });
    expect(own.body.entries.map((entry: any) => entry.type)).toEqual(["user_message", "plugin_run", "reply"]);
    const other = await callApi(hosts.jwt.host.url, "GET", `/api/memory/audit/${sessionId}`, { token: await hosts.issuer.token("bob-oid", hosts.audience) });
    expect(other.body.entries).toEqual([]);
  });
});
