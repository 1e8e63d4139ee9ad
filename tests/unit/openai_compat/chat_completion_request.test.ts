import { describe, expect, it } from "vitest";
import { parseChatCompletionRequest, turnOf } from "../../../src/openai_compat/chat_completion_request.js";
import { paramOf } from "../../../src/openai_compat/openai_request_body.js";
import { assertKnownModel, modelList, openAiModelId } from "../../../src/openai_compat/models.js";
import { OpenAiRequestError } from "../../../src/openai_compat/openai_error.js";
import { appErrorOf } from "../../support/failure_of.js";

const parse = (body: unknown) => parseChatCompletionRequest(typeof body === "string" ? body : JSON.stringify(body));
const turn = (messages: unknown[], extra: Record<string, unknown> = {}) => turnOf(parse({ model: "codexcontinue", messages, ...extra }));

/** The OpenAiRequestError a body is refused with. */
function refusal(action: () => unknown): OpenAiRequestError {
  const error = appErrorOf(action);
  expect(error).toBeInstanceOf(OpenAiRequestError);
  return error as OpenAiRequestError;
}

describe("the turn of a chat completions request", () => {
  it("is the last message, the user's, with no history when it is the only one", () => {
    expect(turn([{ role: "user", content: "/run calculator 2+3*4" }])).toEqual({ message: "/run calculator 2+3*4", history: [] });
  });

  it("joins the text parts of a content array", () => {
    const parts = [
      { type: "text", text: "/run calculator" },
      { type: "text", text: "2+3*4" },
    ];
    expect(turn([{ role: "user", content: parts }]).message).toBe("/run calculator\n2+3*4");
  });

  it("gives the earlier messages as the history: system and developer as system, user and assistant as they were, empty ones left out", () => {
    const { message, history } = turn([
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Use the tools." }] },
      { role: "user", content: "Hi", name: "ann" },
      { role: "assistant", content: "Hello!" },
      { role: "assistant", content: null, refusal: null },
      { role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
      { role: "user", content: "What now?" },
    ]);
    expect(message).toBe("What now?");
    expect(history).toEqual([
      { role: "system", content: "Be brief." },
      { role: "system", content: "Use the tools." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "assistant", content: "I can't." },
    ]);
  });

  it("tells a client's own tool calls and their results as system notes, so that no call is left unanswered for the model", () => {
    const { history } = turn([
      { role: "user", content: "Weather?" },
      { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Oslo"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "rain" },
      { role: "tool", tool_call_id: "call_unknown", content: [{ type: "text", text: "sun" }] },
      { role: "user", content: "Thanks" },
    ]);
    expect(history).toEqual([
      { role: "user", content: "Weather?" },
      { role: "system", content: 'The assistant called the weather tool with {"city":"Oslo"}' },
      { role: "system", content: "Result of the weather tool: rain" },
      { role: "system", content: "Result of the a tool: sun" },
    ]);
  });

  it("accepts the common options it does not act on, and fields it does not know", () => {
    const request = parse({
      model: "codexcontinue",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
      temperature: 0.7,
      top_p: 1,
      max_tokens: 100,
      max_completion_tokens: 100,
      n: 1,
      stop: ["\n"],
      seed: 3,
      presence_penalty: 0,
      frequency_penalty: 0,
      user: "someone",
      tools: [{ type: "function", function: { name: "x", parameters: {} } }],
      tool_choice: "auto",
      parallel_tool_calls: false,
      response_format: { type: "text" },
      logit_bias: { "50256": -100 },
      metadata: { a: "b" },
      store: false,
      reasoning_effort: "low",
      some_client_field: { anything: true },
    });
    expect(request.stream).toBe(true);
    expect(turnOf(request).message).toBe("hi");
    expect(parse({ model: "codexcontinue", messages: [{ role: "user", content: "hi" }], temperature: null, stream: null }).stream).toBeNull();
  });

  it.each([
    ["an empty body", "", null],
    ["a body that is not JSON", "{", null],
    ["a body that is not an object", "[1]", null],
    ["no model", { messages: [{ role: "user", content: "x" }] }, "model"],
    ["an empty model", { model: "", messages: [{ role: "user", content: "x" }] }, "model"],
    ["no messages", { model: "m" }, "messages"],
    ["no message", { model: "m", messages: [] }, "messages"],
    ["an unknown role", { model: "m", messages: [{ role: "function", content: "x" }] }, "messages[0].role"],
    ["a user message without content", { model: "m", messages: [{ role: "user" }] }, "messages[0].content"],
    [
      "content that is a number",
      {
        model: "m",
        messages: [
          { role: "system", content: "s" },
          { role: "user", content: 5 },
        ],
      },
      "messages[1].content",
    ],
    [
      "a tool message without its call id",
      {
        model: "m",
        messages: [
          { role: "tool", content: "x" },
          { role: "user", content: "x" },
        ],
      },
      "messages[0].tool_call_id",
    ],
    ["stream as a string", { model: "m", messages: [{ role: "user", content: "x" }], stream: "true" }, "stream"],
    ["a temperature that is not a number", { model: "m", messages: [{ role: "user", content: "x" }], temperature: "hot" }, "temperature"],
    ["a negative max_tokens", { model: "m", messages: [{ role: "user", content: "x" }], max_tokens: -1 }, "max_tokens"],
    ["two choices", { model: "m", messages: [{ role: "user", content: "x" }], n: 2 }, "n"],
  ])("refuses %s with 400 invalid_request, naming the field", (_name, body, param) => {
    const error = refusal(() => parse(body));
    expect(error).toMatchObject({ code: "invalid_request", param });
    if (param) expect(error.message).toContain(`'${param}'`);
  });

  it.each([
    [
      "the last message is the assistant's",
      [
        { role: "user", content: "x" },
        { role: "assistant", content: "y" },
      ],
      "messages[1].role",
    ],
    ["the last message is a system message", [{ role: "system", content: "x" }], "messages[0].role"],
    ["the turn has no text", [{ role: "user", content: "   " }], "messages[0].content"],
    ["the turn is an image", [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }], "messages[0].content[0].type"],
    [
      "an earlier message is audio",
      [
        { role: "user", content: [{ type: "input_audio" }] },
        { role: "user", content: "x" },
      ],
      "messages[0].content[0].type",
    ],
    ["a text part has no text", [{ role: "user", content: [{ type: "text" }] }], "messages[0].content[0].text"],
    ["a user sends a refusal part", [{ role: "user", content: [{ type: "refusal", refusal: "no" }] }], "messages[0].content[0].type"],
  ])("refuses a request whose %s", (_name, messages, param) => {
    expect(refusal(() => turn(messages))).toMatchObject({ code: "invalid_request", param });
  });

  it("names fields as OpenAI does", () => {
    expect(paramOf(["messages", 2, "content", 0, "type"])).toBe("messages[2].content[0].type");
    expect(paramOf(["model"])).toBe("model");
    expect(paramOf([])).toBeUndefined();
  });
});

describe("the models", () => {
  it("lists codexcontinue in OpenAI's list shape, the same on every call", () => {
    expect(modelList()).toEqual({ object: "list", data: [{ id: openAiModelId, object: "model", created: expect.any(Number), owned_by: "codexcontinue" }] });
    expect(modelList()).toEqual(modelList());
    expect(openAiModelId).toBe("codexcontinue");
  });

  it("refuses any other model with 404 and OpenAI's model_not_found", () => {
    expect(() => assertKnownModel("codexcontinue")).not.toThrow();
    expect(refusal(() => assertKnownModel("gpt-4o"))).toMatchObject({ code: "not_found", openAiCode: "model_not_found", param: "model" });
    expect(refusal(() => assertKnownModel("x".repeat(500))).message.length).toBeLessThan(300);
  });
});
