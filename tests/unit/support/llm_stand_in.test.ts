import { describe, expect, it } from "vitest";
import { z } from "zod";
import { OpenAiCompatibleChatModel } from "../../../src/llm/openai_compatible_chat_model.js";
import { failureOf } from "../../support/failure_of.js";
import { reply, useLlmStandIn } from "../../support/llm_stand_in.js";

/** The stand-in must refuse what OpenAI refuses: a lenient one hid a schema Azure OpenAI refuses on every message. */

const llm = useLlmStandIn();

const routes = {
  azure: { path: "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", headers: { "api-key": "k" } },
  ollama: { path: "/v1/chat/completions", headers: {} },
} as const;

async function post(route: keyof typeof routes, body: unknown, headers: Record<string, string> = routes[route].headers) {
  const response = await fetch(`${llm.url}${routes[route].path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const user = { role: "user", content: "hi" };
const object = { type: "object", properties: { text: { type: "string" } } };
const tool = (name: string, parameters: unknown) => ({ type: "function", function: { name, description: "d", parameters } });

/** The memory plugin's input before issue 9: a zod discriminated union, whose JSON Schema is a bare top-level oneOf. */
const oldMemorySchema = z.toJSONSchema(
  z.discriminatedUnion("action", [
    z.strictObject({ action: z.literal(["list", "read"]), limit: z.number().int().default(20) }),
    z.strictObject({ action: z.literal("note"), text: z.string() }),
    z.strictObject({ action: z.literal("clear") }),
  ]),
  { io: "input" },
);

describe.each(["azure", "ollama"] as const)("the LLM stand-in on the %s route", (route) => {
  const body = (extra: Record<string, unknown>) => ({ model: "m", messages: [user], ...extra });

  it("refuses the memory plugin's old schema (a top-level oneOf) with the 400 OpenAI sends, and uses no scripted reply", async () => {
    llm.script(reply.text("never"));
    const answer = await post(route, body({ tools: [tool("calculator", object), tool("memory", oldMemorySchema)] }));
    expect(answer).toEqual({
      status: 400,
      body: {
        error: {
          message: `Invalid schema for function 'memory': schema must be a JSON Schema of 'type: "object"', got 'type: "None"'.`,
          type: "invalid_request_error",
          param: "tools[1].function.parameters",
          code: "invalid_function_parameters",
        },
      },
    });
    expect(llm.remaining).toBe(1);
    expect(llm.refusedRequests).toHaveLength(1);
  });

  it.each<[string, unknown, string, RegExp]>([
    ["parameters of another type", tool("say", { type: "string" }), "tools[0].function.parameters", /got 'type: "string"'/],
    [
      "an object with a top-level anyOf",
      tool("either", { ...object, anyOf: [object] }),
      "tools[0].function.parameters",
      /not have 'oneOf'\/'anyOf'\/'allOf'\/'enum'\/'not' at the top level/,
    ],
    ["an object without properties", tool("map", { type: "object" }), "tools[0].function.parameters", /object schema missing properties/],
    ["a name with a dot", tool("a.b", object), "tools[0].function.name", /string does not match pattern/],
    ["a name of 65 characters", tool("a".repeat(65), object), "tools[0].function.name", /string too long/],
    ["a tool that is not a function", { type: "retrieval" }, "tools[0].type", /Supported values are: 'function'/],
  ])("refuses %s", async (_label, offered, param, message) => {
    const answer = await post(route, body({ tools: [offered] }));
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ type: "invalid_request_error", param, message: expect.stringMatching(message) });
  });

  it("refuses an empty tools array", async () => {
    expect((await post(route, body({ tools: [] }))).body.error).toMatchObject({ param: "tools", code: "empty_array" });
  });

  it.each<[string, unknown, string, RegExp]>([
    ["no messages", undefined, "messages", /Missing required parameter: 'messages'/],
    ["an empty list", [], "messages", /empty array/],
    ["an unknown role", [{ role: "robot", content: "x" }], "messages[0].role", /Invalid value: 'robot'/],
    ["a user message without content", [{ role: "user", content: null }], "messages[0].content", /expected one of a string or array of objects, but got null/],
    ["an assistant message with neither content nor tool calls", [user, { role: "assistant" }], "messages.[1].content", /expected a string, got null/],
    [
      "a tool result with no tool call before it",
      [user, { role: "tool", tool_call_id: "call_1", content: "391" }],
      "messages.[1].role",
      /must be a response to a preceeding message with 'tool_calls'/,
    ],
    [
      "a tool result for another call",
      [
        user,
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "c", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_2", content: "x" },
      ],
      "messages.[2].role",
      /must be a response/,
    ],
    [
      "tool calls left unanswered",
      [user, { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: "c", arguments: "{}" } }] }, user],
      "messages.[1].role",
      /did not have response messages: call_1/,
    ],
    [
      "tool-call arguments sent as an object (Ollama's native shape)",
      [user, { role: "assistant", content: "", tool_calls: [{ id: "call_1", type: "function", function: { name: "c", arguments: {} } }] }],
      "messages[1].tool_calls[0].function.arguments",
      /expected a string, but got an object/,
    ],
    ["a tool result without tool_call_id", [user, { role: "tool", content: "x" }], "messages[1].tool_call_id", /Missing required parameter/],
  ])("refuses %s", async (_label, messages, param, message) => {
    const answer = await post(route, { model: "m", messages });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ param, message: expect.stringMatching(message) });
  });

  it("accepts a whole tool round trip", async () => {
    llm.script(reply.text("391"));
    const answer = await post(route, {
      model: "m",
      messages: [
        user,
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "call_1", type: "function", function: { name: "calculator", arguments: '{"expression":"17*23"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: "391" },
      ],
      tools: [tool("calculator", object)],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.choices[0].message.content).toBe("391");
  });
});

describe("the LLM stand-in's route rules", () => {
  it("needs the model in the body on Ollama's route", async () => {
    expect((await post("ollama", { messages: [user] })).body.error).toMatchObject({ param: "model", code: "missing_required_parameter" });
  });

  it("answers Azure's 404 without api-version and 401 without a key or a bearer token", async () => {
    const noVersion = await fetch(`${llm.url}/openai/deployments/gpt-4o/chat/completions`, { method: "POST", headers: { "api-key": "k" }, body: "{}" });
    expect(noVersion.status).toBe(404);
    expect(await noVersion.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
    const anonymous = await post("azure", { messages: [user] }, {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe("401");
    expect((await post("azure", { messages: [user] }, { authorization: "Bearer " })).status).toBe(401);
  });
});

describe("the application's client against the strict stand-in", () => {
  it("fails with llm_unavailable, not retried, when offered the memory plugin's old schema: the bug of issue 9", async () => {
    const model = OpenAiCompatibleChatModel.azureOpenAi(
      { provider: "azure-openai", endpoint: llm.url, deployment: "gpt-4o", apiVersion: "2024-10-21", apiKey: "k", timeoutMs: 2000, maxRetries: 2 },
      undefined,
    );
    const error = await failureOf(
      model.complete({
        messages: [{ role: "user", content: "hi" }],
        tools: [{ name: "memory", description: "d", parameters: oldMemorySchema as Record<string, unknown> }],
      }),
    );
    expect(error.code).toBe("llm_unavailable");
    expect(error.message).toMatch(
      /^the language model is unavailable: HTTP 400: Invalid schema for function 'memory': schema must be a JSON Schema of 'type: "object"'/,
    );
    expect(llm.requests).toHaveLength(1);
  });
});
