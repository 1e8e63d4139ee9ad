import { afterEach, describe, expect, it } from "vitest";
import { pluginClasses } from "../../../plugins/index.js";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { loadConfig } from "../../../src/config/config.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { createServices, type Services } from "../../../src/services.js";
import { Conversation } from "../../../src/chat/conversation.js";
import type { ChatModel, LlmRequest, LlmResponse } from "../../../src/llm/chat_model.js";
import { failureOf } from "../../support/failure_of.js";
import { reply, useLlmStandIn } from "../../support/llm_stand_in.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

/** A session of the local caller, the one caller of AUTH_MODE=none. */
const local = (sessionId: string) => sessionRef(localCaller, sessionId);

const llm = useLlmStandIn();
let services: Services | undefined;

afterEach(async () => {
  await services?.close();
});

/** The app's own services and model client (configured for Ollama), talking to the stand-in model. */
function build(environment: Record<string, string> = {}) {
  const audit = new RecordingAuditLog();
  services = createServices(loadConfig({ LOG_LEVEL: "error", OLLAMA_BASE_URL: llm.url, OLLAMA_MODEL: "tool-model", LLM_MAX_RETRIES: "0", ...environment }), {
    plugins: pluginClasses,
    storage: undefined,
    logger: silentLogger,
    audit,
  });
  return { services, audit };
}

describe("chat with a language model", () => {
  it("answers with the session's memory as context, after a configurable system prompt", async () => {
    llm.script(reply.text("Hello Ada."), reply.text("Your name is Ada."));
    const { services } = build({ CHAT_SYSTEM_PROMPT: "Be terse." });
    await services.chat.handle({ caller: localCaller, message: "I am Ada", sessionId: "s1" });
    const answer = await services.chat.handle({ caller: localCaller, message: "Who am I?", sessionId: "s1" });
    expect(answer).toMatchObject({ sessionId: "s1", reply: "Your name is Ada.", source: "llm", toolCalls: 0 });
    expect(llm.chatRequests[1]!.body).toMatchObject({ model: "tool-model" });
    expect(llm.chatRequests[1]!.messages).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: "I am Ada" },
      { role: "assistant", content: "Hello Ada." },
      { role: "user", content: "Who am I?" },
    ]);
  });

  it("bounds the history by count and by characters, keeping the newest", async () => {
    llm.script(reply.text("a"), reply.text("b"), reply.text("c"));
    const { services } = build({ CHAT_HISTORY_MAX_MESSAGES: "3" });
    for (const message of ["one", "two", "three"]) await services.chat.handle({ caller: localCaller, message, sessionId: "s2" });
    expect(llm.chatRequests[2]!.messages.filter((m) => m.role !== "system")).toEqual([
      { role: "assistant", content: "a" },
      { role: "user", content: "two" },
      { role: "assistant", content: "b" },
      { role: "user", content: "three" },
    ]);
    await services.close();

    llm.reset();
    llm.script(reply.text("x"), reply.text("y"));
    const small = build({ CHAT_HISTORY_MAX_CHARS: "5" }).services;
    await small.chat.handle({ caller: localCaller, message: "a long first message", sessionId: "s3" });
    await small.chat.handle({ caller: localCaller, message: "next", sessionId: "s3" });
    expect(llm.chatRequests[1]!.messages.filter((m) => m.role !== "system")).toEqual([
      { role: "assistant", content: "x" },
      { role: "user", content: "next" },
    ]);
  });

  it("offers every plugin the caller may run on the llm channel and that is enabled as a tool, with its JSON Schema", async () => {
    llm.script(reply.text("ok"));
    const { services } = build();
    await services.chat.handle({ caller: localCaller, message: "hi" });
    // Not offered: agent and shell (their default policies leave out the llm channel; shell is also disabled
    // without an allow-list) and huggingface (disabled without HF_TOKEN).
    const offered = services.registry
      .describe()
      .map((p) => p.name)
      .filter((name) => !["agent", "shell", "huggingface"].includes(name));
    expect(offered).toEqual(["calculator", "echo", "memory"]);
    expect([...llm.chatRequests[0]!.toolNames].sort()).toEqual(offered.sort());
    const tools = llm.chatRequests[0]!.body?.tools ?? [];
    expect(tools.find((t) => t.function.name === "calculator")?.function.parameters).toMatchObject({ type: "object", required: ["expression"] });
  });

  it("offers an enabled huggingface plugin, but never the shell plugin, even with an allow-list", async () => {
    llm.script(reply.text("ok"));
    const { services } = build({ HF_TOKEN: "hf_test_token", SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" });
    await services.chat.handle({ caller: localCaller, message: "hi" });
    expect([...llm.chatRequests[0]!.toolNames].sort()).toEqual(["calculator", "echo", "huggingface", "memory"]);
  });

  it.each([
    ["shell", { command: "echo hi" }],
    ["agent", { instruction: "do it again" }],
  ] as const)("refuses a call of %s, which it did not offer, as an unknown tool, without running it", async (tool, args) => {
    llm.script(reply.toolCall(tool, args), (request) => reply.text(`told: ${request.toolResults[0]?.content}`));
    const { services, audit } = build({ SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" });
    const answer = await services.chat.handle({ caller: localCaller, message: "go", sessionId: "s10" });
    expect(answer.reply).toBe(`told: error (plugin_not_found): there is no tool named "${tool}"; the tools are: calculator, echo, memory`);
    expect(audit.of(local("s10")).filter((e) => e.type === "plugin_run")).toEqual([]);
    expect(audit.of(local("s10")).filter((e) => e.type === "tool_call")).toMatchObject([{ plugin: tool, outcome: "plugin_not_found" }]);
  });

  it("refuses a call of a tool it did not offer even when the policy would let it run: an alias, or the agent inside the agent", async () => {
    llm.script(
      reply.toolCall("test", { text: "by alias" }),
      reply.toolCall("agent", { instruction: "nested" }),
      reply.toolCall("agent", { instruction: "nested again" }),
      (request) => reply.text(`inner told: ${request.toolResults.at(-1)?.content}`),
      (request) => reply.text(`outer told: ${request.toolResults.at(-1)?.content}`),
    );
    // The operator's choice: the agent on every channel, llm included. Offered to the chat's model, then.
    const { services, audit } = build({ PLUGIN_POLICY: '{"agent":{"channels":["execute","chat","llm","queue","mcp"]}}' });
    const answer = await services.chat.handle({ caller: localCaller, message: "go", sessionId: "s11" });
    expect(llm.chatRequests[0]!.toolNames).toContain("agent");
    // The agent's own conversation does not offer it again, and its model's call of it runs nothing.
    expect(llm.chatRequests[2]!.toolNames).toEqual(["calculator", "echo", "memory"]);
    expect(llm.chatRequests[3]!.toolResults.at(-1)?.content).toMatch(/^error \(plugin_not_found\): there is no tool named "agent"/);
    expect(answer.reply).toBe(
      'outer told: {"reply":"inner told: error (plugin_not_found): there is no tool named \\"agent\\"; the tools are: calculator, echo, memory","toolCalls":1}',
    );
    expect(llm.chatRequests[1]!.toolResults[0]?.content).toMatch(/^error \(plugin_not_found\): there is no tool named "test"/);
    expect(
      audit
        .of(local("s11"))
        .filter((e) => e.type === "plugin_run")
        .map((e) => e.plugin),
    ).toEqual(["agent"]);
  });

  it("runs a tool call through the runner and gives the model its result: 17*23 is 391", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`17*23 = ${request.toolResults[0]?.content}`));
    const { services, audit } = build();
    const answer = await services.chat.handle({ caller: localCaller, message: "What is 17*23? Use the calculator.", sessionId: "s4" });
    expect(answer).toMatchObject({ reply: "17*23 = 391", source: "llm", toolCalls: 1 });
    expect(llm.chatRequests[1]!.messages.slice(-2)).toMatchObject([
      { role: "assistant", tool_calls: [{ id: "call_1", type: "function", function: { name: "calculator", arguments: '{"expression":"17*23"}' } }] },
      { role: "tool", tool_call_id: "call_1", content: "391" },
    ]);
    expect(audit.of(local("s4")).map((e) => [e.type, e.plugin ?? e.content])).toEqual([
      ["user_message", "What is 17*23? Use the calculator."],
      ["tool_call", "calculator"],
      ["plugin_run", "calculator"],
      ["reply", "17*23 = 391"],
    ]);
    expect(audit.of(local("s4"))[2]).toMatchObject({ input: { expression: "17*23" }, result: 391, outcome: "success" });
    // The tool-using turn is one transaction: its message, its tool call and run, and its reply.
    expect(audit.appends).toBe(0);
    expect(audit.turns.map((entries) => entries.length)).toEqual([4]);
  });

  it("answers bad arguments, unknown tools and unreadable JSON to the model as tool errors, so it can correct itself", async () => {
    llm.script(
      reply.toolCall("calculator", { expr: "1+1" }),
      reply.toolCall("weather", {}),
      reply.toolCall("calculator", '{"expression": ', { raw: true }),
      reply.toolCall("calculator", { expression: "1+1" }),
      reply.text("2"),
    );
    const { services, audit } = build();
    expect((await services.chat.handle({ caller: localCaller, message: "1+1?", sessionId: "s5" })).reply).toBe("2");
    const told = llm.chatRequests.slice(1).map((r) => r.messages.at(-1)?.content);
    expect(told[0]).toMatch(/^error \(invalid_input\).*expression/);
    // Only the tools this caller was offered: not the shell plugin (never on llm) nor a disabled one.
    expect(told[1]).toMatch(/^error \(plugin_not_found\): there is no tool named "weather"; the tools are: calculator, echo, memory$/);
    expect(told[2]).toMatch(/^error \(invalid_input\): the arguments are not valid JSON/);
    expect(told[3]).toBe("2");
    const outcomes = audit
      .of(local("s5"))
      .filter((e) => e.type === "tool_call")
      .map((e) => e.outcome ?? "ran");
    expect(outcomes).toEqual(["ran", "plugin_not_found", "invalid_input", "ran"]);
  });

  it("stops a model that keeps calling tools at the step limit with llm_step_limit", async () => {
    llm.answerEveryRequestWith(reply.toolCall("echo", { text: "again" }));
    const { services, audit } = build({ CHAT_MAX_TOOL_STEPS: "3" });
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "loop", sessionId: "s6" }));
    expect(error.code).toBe("llm_step_limit");
    expect(llm.chatRequests).toHaveLength(4);
    expect(audit.of(local("s6")).filter((e) => e.type === "plugin_run")).toHaveLength(3);
    expect(audit.of(local("s6")).at(-1)).toMatchObject({ type: "reply", outcome: "llm_step_limit" });
  });

  it.each([
    ["answers 500", reply.serverError(), {}],
    ["does not answer in time", reply.delay(2000), { LLM_TIMEOUT_MS: "200" }],
  ] as const)("answers llm_unavailable when the model %s, keeping the user's message in memory and the audit log", async (_label, failure, settings) => {
    llm.answerEveryRequestWith(failure);
    const { services, audit } = build({ LLM_MAX_RETRIES: "1", ...settings });
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "are you there?", sessionId: "s7" }));
    expect(error.code).toBe("llm_unavailable");
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(llm.url);
    expect(llm.chatRequests).toHaveLength(2);
    expect((await services.memory.recent(local("s7"))).map((m) => m.content)).toEqual(["are you there?"]);
    expect(audit.of(local("s7")).map((e) => [e.type, e.outcome])).toEqual([
      ["user_message", undefined],
      ["reply", "llm_unavailable"],
    ]);
  });

  it("streams tokens, tool calls and the reply as events, and stores the full reply once complete", async () => {
    llm.script(reply.toolCall("calculator", { expression: "2+2" }), reply.text("It is 4.", { chunks: ["It ", "is ", "4."] }));
    const { services } = build();
    const events = [];
    for await (const event of services.chat.events({ caller: localCaller, message: "2+2?", sessionId: "s8" }, true)) events.push(event);
    expect(events.map((e) => e.type)).toEqual(["session", "tool_call", "tool_result", "token", "token", "token", "reply"]);
    expect(events.flatMap((e) => (e.type === "token" ? [e.text] : []))).toEqual(["It ", "is ", "4."]);
    expect(events[2]).toMatchObject({ type: "tool_result", name: "calculator", outcome: "success", result: 4 });
    expect(llm.chatRequests.every((r) => r.stream)).toBe(true);
    expect((await services.memory.recent(local("s8"))).map((m) => [m.role, m.content])).toEqual([
      ["user", "2+2?"],
      ["assistant", "It is 4."],
    ]);
  });

  it("runs /run without the model, and /run agent through it without offering the agent to itself", async () => {
    llm.script(reply.toolCall("calculator", { expression: "6*7" }), reply.text("42, by the calculator."));
    const { services, audit } = build();
    expect((await services.chat.handle({ caller: localCaller, message: "/run echo direct", sessionId: "s9" })).reply).toBe("direct");
    expect(llm.chatRequests).toHaveLength(0);
    const agent = await services.chat.handle({ caller: localCaller, message: "/run agent multiply 6 by 7", sessionId: "s9" });
    expect(agent).toMatchObject({ reply: "42, by the calculator.", source: "plugin", plugin: "agent" });
    expect(llm.chatRequests[0]!.toolNames).not.toContain("agent");
    expect(llm.chatRequests[0]!.lastUserMessage).toBe("multiply 6 by 7");
    expect(
      audit
        .of(local("s9"))
        .filter((e) => e.type === "plugin_run")
        .map((e) => e.plugin),
    ).toEqual(["echo", "calculator", "agent"]);
    // The agent's own tool calls join the turn that ran the agent, in order, in its one transaction.
    expect(audit.turns.at(-1)!.map((e) => [e.type, e.plugin])).toEqual([
      ["user_message", undefined],
      ["tool_call", "calculator"],
      ["plugin_run", "calculator"],
      ["plugin_run", "agent"],
      ["reply", "agent"],
    ]);
  });
});

describe("chat for two callers", () => {
  it("gives the model each caller's own history of a session id they share, and audits each in its own session", async () => {
    llm.script(reply.text("Hello Ada."), reply.text("Hello Bob."), reply.text("You are Bob."));
    const { services, audit } = build();
    const ada = createCaller("user", "ada");
    const bob = createCaller("user", "bob");
    await services.chat.handle({ caller: ada, message: "I am Ada", sessionId: "shared" });
    await services.chat.handle({ caller: bob, message: "I am Bob", sessionId: "shared" });
    await services.chat.handle({ caller: bob, message: "Who am I?", sessionId: "shared" });
    const conversation = (n: number) => llm.chatRequests[n]!.messages.filter((m) => m.role !== "system");
    expect(conversation(1)).toEqual([{ role: "user", content: "I am Bob" }]);
    expect(conversation(2)).toEqual([
      { role: "user", content: "I am Bob" },
      { role: "assistant", content: "Hello Bob." },
      { role: "user", content: "Who am I?" },
    ]);
    expect(audit.of(sessionRef(ada, "shared")).map((e) => e.content)).toEqual(["I am Ada", "Hello Ada."]);
    expect(audit.of(sessionRef(bob, "shared")).map((e) => e.content)).toEqual(["I am Bob", "Hello Bob.", "Who am I?", "You are Bob."]);
  });
});

describe("the chat deadline", () => {
  it("ends an answer that takes longer than CHAT_TIMEOUT_MS with llm_unavailable, whatever the retries", async () => {
    llm.answerEveryRequestWith(reply.delay(800));
    const { services, audit } = build({ CHAT_TIMEOUT_MS: "1000", LLM_TIMEOUT_MS: "700", LLM_MAX_RETRIES: "5" });
    const started = Date.now();
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "slow?", sessionId: "d1" }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error).toMatchObject({ code: "llm_unavailable", message: "the answer did not come within 1000 ms" });
    expect(audit.of(local("d1")).at(-1)).toMatchObject({ type: "reply", outcome: "llm_unavailable" });
  });
});

describe("a turn with the conversation the client sends (OpenAI's chat completions)", () => {
  it("gives the model the client's history, bounded as memory is, instead of the session's memory", async () => {
    llm.script(reply.text("remembered"), reply.text("from the request"));
    const { services } = build({ CHAT_SYSTEM_PROMPT: "Be terse.", CHAT_HISTORY_MAX_MESSAGES: "2" });
    await services.chat.handle({ caller: localCaller, message: "in memory only", sessionId: "h1" });
    const history = [
      { role: "system" as const, content: "The client's own prompt." },
      { role: "user" as const, content: "first" },
      { role: "assistant" as const, content: "one" },
    ];
    const answer = await services.chat.handle({ caller: localCaller, message: "second", sessionId: "h1", history });
    expect(answer.reply).toBe("from the request");
    expect(llm.chatRequests[1]!.messages).toEqual([
      { role: "system", content: "Be terse." },
      { role: "user", content: "first" },
      { role: "assistant", content: "one" },
      { role: "user", content: "second" },
    ]);
  });

  it("records nothing of a turn of no session (record: false), its tool calls and runs included, and still answers", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`It is ${request.toolResults[0]?.content}.`));
    const { services, audit } = build();
    const answer = await services.chat.handle({ caller: localCaller, message: "What is 17*23?", history: [], record: false });
    expect(answer).toMatchObject({ reply: "It is 391.", source: "llm", toolCalls: 1 });
    expect(audit.entries).toEqual([]);
    expect(await services.memory.recent(local(answer.sessionId))).toEqual([]);
  });

  it("fails a turn of no session with the failure as it is, recording nothing", async () => {
    llm.answerEveryRequestWith(reply.serverError());
    const { services, audit } = build();
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "anyone?", history: [], record: false }));
    expect(error.code).toBe("llm_unavailable");
    expect(audit.entries).toEqual([]);
  });
});

describe("a conversation whose tool run fails on the platform", () => {
  it("ends with the platform's code (an endsConversation row) instead of telling the model", async () => {
    // The run's own record (the conversation is given no turn) cannot be written: storage_unavailable out of the runner.
    const failing = new RecordingAuditLog();
    failing.failWrites = true;
    services = createServices(loadConfig({ LOG_LEVEL: "error" }), { plugins: pluginClasses, storage: undefined, logger: silentLogger, audit: failing });
    // The conversation's own tool_call entries are written.
    const audit = new RecordingAuditLog();
    // A model that calls echo once and then answers: reached only if the failure went back to it.
    const complete = async (request: LlmRequest): Promise<LlmResponse> =>
      request.messages.some((m) => m.role === "tool")
        ? { content: "carried on", toolCalls: [] }
        : { content: "", toolCalls: [{ id: "c1", name: "echo", arguments: { text: "x" } }] };
    const model: ChatModel = {
      provider: "ollama",
      model: "scripted",
      complete,
      stream: async function* (request) {
        yield { type: "done", response: await complete(request) };
      },
      ping: async () => {},
    };
    const conversation = new Conversation(model, services.registry, services.policy, services.runner, audit, { systemPrompt: "", maxToolSteps: 3 });
    const error = await failureOf(conversation.answer({ history: [], message: "hi", caller: localCaller, sessionId: "p1" }));
    expect(error.code).toBe("storage_unavailable");
  });
});
