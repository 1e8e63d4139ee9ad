import { describe, expect, it } from "vitest";
import { OpenAiRequestError } from "../../../src/openai_compat/openai_error.js";
import { parseResponsesRequest, responseTurnOf } from "../../../src/openai_compat/responses_request.js";
import { appErrorOf } from "../../support/failure_of.js";

/**
 * The request rules of `POST /v1/responses`, each from OpenAI's API reference ("Create a model
 * response", https://developers.openai.com/api/reference/resources/responses/methods/create, and
 * `components.schemas.CreateResponse` of OpenAI's OpenAPI document, github.com/openai/openai-openapi)
 * or, where this face differs from OpenAI's (it stores nothing), from the issue that asks for it.
 */
const parse = (body: unknown) => parseResponsesRequest(typeof body === "string" ? body : JSON.stringify(body));
const turn = (input: unknown, extra: Record<string, unknown> = {}) => responseTurnOf(parse({ model: "codexcontinue", input, ...extra }));

function refusal(action: () => unknown): OpenAiRequestError {
  const error = appErrorOf(action);
  expect(error).toBeInstanceOf(OpenAiRequestError);
  return error as OpenAiRequestError;
}

describe("the turn of a Responses request", () => {
  // Reference, `input`: "Text input: a text input to the model, equivalent to a text input with the user role."
  it("is the input itself when it is text", () => {
    expect(turn("/run calculator 2+3*4")).toEqual({ message: "/run calculator 2+3*4", history: [] });
  });

  // Reference, EasyInputMessage: `role` one of user, assistant, system, developer; `content` text or a list of input_text parts; `type` "message", optional.
  it("is the last message item, the user's, its input_text parts joined", () => {
    const parts = [
      { type: "input_text", text: "/run calculator" },
      { type: "input_text", text: "2+3*4" },
    ];
    expect(turn([{ role: "user", content: parts }])).toEqual({ message: "/run calculator\n2+3*4", history: [] });
    expect(turn([{ type: "message", role: "user", content: "hi" }]).message).toBe("hi");
  });

  // Reference, `instructions`: "A system (or developer) message inserted into the model's context."
  // Reference, OutputMessage: an earlier answer comes back as output_text (or refusal) parts, with its id and status.
  it("gives instructions first, then the earlier items: system and developer as system, user and assistant as they were", () => {
    const { message, history } = turn(
      [
        { role: "system", content: "Be brief." },
        { role: "developer", content: [{ type: "input_text", text: "Use the tools." }] },
        { role: "user", content: "Hi" },
        { type: "message", id: "msg_1", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hello!", annotations: [] }] },
        { role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
        { role: "assistant", content: "" },
        { role: "user", content: "What now?" },
      ],
      { instructions: "Answer in three words." },
    );
    expect(message).toBe("What now?");
    expect(history).toEqual([
      { role: "system", content: "Answer in three words." },
      { role: "system", content: "Be brief." },
      { role: "system", content: "Use the tools." },
      { role: "user", content: "Hi" },
      { role: "assistant", content: "Hello!" },
      { role: "assistant", content: "I can't." },
    ]);
  });

  // Reference, CreateResponse: the optional fields clients send (temperature 0-2, max_output_tokens, metadata as string pairs, user, store, stream, tool_choice, text, reasoning, include).
  it("accepts the optional fields clients send, an empty tools list and fields it does not know", () => {
    const request = parse({
      model: "codexcontinue",
      input: "hi",
      stream: true,
      store: false,
      temperature: 0.2,
      top_p: 1,
      max_output_tokens: 100,
      metadata: { team: "a" },
      user: "someone",
      tools: [],
      tool_choice: "auto",
      parallel_tool_calls: true,
      text: { format: { type: "text" } },
      reasoning: { effort: "low" },
      include: ["message.output_text.logprobs"],
      previous_response_id: null,
      background: false,
      some_client_field: { anything: true },
    });
    expect(request).toMatchObject({ stream: true, metadata: { team: "a" }, max_output_tokens: 100 });
    expect(responseTurnOf(request).message).toBe("hi");
  });
});

describe("what a Responses request is refused for, with 400 naming the field", () => {
  it.each([
    ["an empty body", "", null],
    ["a body that is not JSON", "{", null],
    ["no model (CreateResponse: model is the one asked for; GET /v1/models lists them)", { input: "x" }, "model"],
    // This face answers a turn; nothing stored can stand for the input.
    ["no input", { model: "m" }, "input"],
    ["an input that is neither text nor a list (InputParam: a string or an array of items)", { model: "m", input: 5 }, "input"],
    ["an empty list of input items", { model: "m", input: [] }, "input"],
    ["an unknown role (EasyInputMessage.role: user, assistant, system or developer)", { model: "m", input: [{ role: "tool", content: "x" }] }, "input[0].role"],
    [
      "content of the wrong type (EasyInputMessage.content: text or a list of parts)",
      { model: "m", input: [{ role: "user", content: 5 }] },
      "input[0].content",
    ],
    ["a part without its type", { model: "m", input: [{ role: "user", content: [{ text: "x" }] }] }, "input[0].content[0].type"],
    ["stream as a string (CreateResponse.stream: boolean)", { model: "m", input: "x", stream: "yes" }, "stream"],
    ["a temperature that is not a number", { model: "m", input: "x", temperature: "hot" }, "temperature"],
    ["metadata values that are not strings (Metadata: string values)", { model: "m", input: "x", metadata: { n: 1 } }, "metadata.n"],
  ])("%s", (_name, body, param) => {
    expect(refusal(() => parse(body))).toMatchObject({ code: "invalid_request", param });
  });

  // Nothing is stored: what would need a stored response, conversation or item is refused rather than ignored.
  it.each([
    ["previous_response_id", { previous_response_id: "resp_123" }],
    ["conversation", { conversation: "conv_123" }],
    ["conversation", { conversation: { id: "conv_123" } }],
  ])("refuses %s, which names something stored, saying nothing is", (param, extra) => {
    const error = refusal(() => parse({ model: "codexcontinue", input: "hi", ...extra }));
    expect(error).toMatchObject({ code: "invalid_request", param });
    expect(error.message).toContain(`'${param}'`);
    expect(error.message).toMatch(/nothing is stored/);
  });

  // Reference, ItemReferenceParam: {type: "item_reference" (or none), id}; the AI SDK sends one per earlier answer unless store is false.
  it.each([
    ["typed", { type: "item_reference", id: "msg_1" }],
    ["untyped", { id: "msg_1" }],
  ])("refuses an item reference (%s), naming input[n] and how to send the item itself", (_label, reference) => {
    const error = refusal(() => parse({ model: "codexcontinue", input: [{ role: "user", content: "hi" }, reference, { role: "user", content: "and?" }] }));
    expect(error).toMatchObject({ code: "invalid_request", param: "input[1]" });
    expect(error.message).toMatch(/store = false/);
  });

  it("refuses an item other than a message (a client's function call output), naming input[n].type", () => {
    const error = refusal(() =>
      parse({
        model: "codexcontinue",
        input: [
          { type: "function_call_output", call_id: "c1", output: "rain" },
          { role: "user", content: "x" },
        ],
      }),
    );
    expect(error).toMatchObject({ param: "input[0].type" });
    expect(error.message).toContain("'function_call_output'");
  });

  // The tools are the server's plugins: a client's function tools would never be called.
  it("refuses client tools, naming tools, and background runs, which need a stored response", () => {
    const tool = { type: "function", name: "get_weather", parameters: { type: "object", properties: {} } };
    expect(refusal(() => parse({ model: "codexcontinue", input: "hi", tools: [tool] }))).toMatchObject({ param: "tools" });
    expect(refusal(() => parse({ model: "codexcontinue", input: "hi", background: true }))).toMatchObject({ param: "background" });
  });

  it.each([
    [
      "the last item is the assistant's",
      [
        { role: "user", content: "x" },
        { role: "assistant", content: "y" },
      ],
      "input[1].role",
    ],
    ["the last user message has no text", [{ role: "user", content: "  " }], "input[0].content"],
    [
      "an image part (only text is supported)",
      [{ role: "user", content: [{ type: "input_image", image_url: "https://example.com/a.png" }] }],
      "input[0].content[0].type",
    ],
    ["a refusal part from the user", [{ role: "user", content: [{ type: "refusal", refusal: "no" }] }], "input[0].content[0].type"],
    ["a text part whose text is not a string", [{ role: "user", content: [{ type: "input_text", text: 5 }] }], "input[0].content[0].text"],
  ])("refuses a turn where %s", (_name, input, param) => {
    expect(refusal(() => turn(input))).toMatchObject({ code: "invalid_request", param });
  });

  it("refuses text input with no text", () => {
    expect(refusal(() => turn(" "))).toMatchObject({ param: "input" });
  });
});
