import { describe, it, expect } from "vitest";
import { z } from "zod";
import { localCaller } from "../../../src/auth/caller.js";
import { AppError } from "../../../src/errors/app_error.js";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import type { PluginContext, SessionMemoryView } from "../../../src/plugins/plugin.js";
import { MemoryPlugin } from "../../../plugins/memory_plugin.js";

const plugin = new MemoryPlugin(pluginEnvironment());

/** A session of the local caller, the caller of the plugin context. */
const local = (sessionId: string) => sessionRef(localCaller, sessionId);

function sessionContext(sessionId = "s1", mem = new InProcessSessionMemory({ maxMessages: 50, ttlSeconds: 60 })) {
  const session = local(sessionId);
  const memory: SessionMemoryView = {
    sessionId,
    recent: (l) => mem.recent(session, l),
    append: (m) => mem.append(session, { ...m, at: new Date().toISOString() }),
    clear: () => mem.clear(session),
  };
  const context = pluginContext({ sessionId, memory });
  return { context, mem };
}

/** Validates like the runner does, then executes. */
function run(input: unknown, context: PluginContext) {
  return plugin.execute(plugin.inputSchema.parse(input), context);
}

describe("MemoryPlugin", () => {
  it("is named memory", () => {
    expect(plugin.name).toBe("memory");
    expect(plugin.description).toContain("session");
  });

  it("stores a note that a later read returns with role note", async () => {
    const { context, mem } = sessionContext();
    await expect(run({ action: "note", text: "buy milk" }, context)).resolves.toEqual({ stored: true, note: "buy milk" });
    const read = await run({ action: "read" }, context);
    expect(read).toEqual({ messages: [{ role: "note", content: "buy milk", at: expect.any(String) }] });
    // The note is in the session's memory, not elsewhere.
    expect((await mem.recent(local("s1"))).map((m) => m.content)).toEqual(["buy milk"]);
    expect(await mem.recent(local("other"))).toEqual([]);
  });

  it("trims a note before storing it", async () => {
    const { context } = sessionContext();
    await expect(run({ action: "note", text: "  spaced  " }, context)).resolves.toEqual({ stored: true, note: "spaced" });
  });

  it("reads the newest messages up to the limit, oldest first", async () => {
    const { context, mem } = sessionContext();
    await mem.append(
      local("s1"),
      ...["one", "two", "three", "four", "five"].map((content) => ({ role: "user" as const, content, at: new Date().toISOString() })),
    );
    const read = await run({ action: "read", limit: 2 }, context);
    expect("messages" in read && read.messages.map((m) => m.content)).toEqual(["four", "five"]);
  });

  it("reads 20 messages by default", async () => {
    const { context, mem } = sessionContext();
    for (let i = 0; i < 30; i++) await mem.append(local("s1"), { role: "user", content: `m${i}`, at: new Date().toISOString() });
    const read = await run({ action: "read" }, context);
    expect("messages" in read && read.messages.length).toBe(20);
    expect("messages" in read && read.messages[0]?.content).toBe("m10");
  });

  it("needs a session: without memory it fails with invalid_input", async () => {
    const context = pluginContext();
    for (const input of [{ action: "read" }, { action: "note", text: "x" }]) {
      let thrown: unknown;
      try {
        await run(input, context);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe("invalid_input");
    }
  });

  it.each<[string, unknown]>([
    ["an unknown action", { action: "forget" }],
    ["a note without text", { action: "note" }],
    ["an empty note", { action: "note", text: "   " }],
    ["a limit of 0", { action: "read", limit: 0 }],
    ["a limit over 200", { action: "read", limit: 201 }],
    ["a fractional limit", { action: "read", limit: 1.5 }],
    ["an extra key", { action: "read", limit: 3, extra: true }],
    ["text on a read", { action: "read", text: "x" }],
  ])("rejects %s", (_label, input) => {
    expect(plugin.inputSchema.safeParse(input).success).toBe(false);
  });

  it.each<[string, unknown, string]>([
    ["a search without a query", { action: "search" }, 'query: action "search" needs "query"'],
    ["a note without text", { action: "note" }, 'text: action "note" needs "text"'],
    ["text on a read", { action: "read", text: "x" }, 'text: action "read" does not take "text": it takes only "limit"'],
    ["a limit on a note", { action: "note", text: "x", limit: 2 }, 'limit: action "note" does not take "limit": it takes only "text"'],
    ["a query on a clear", { action: "clear", query: "x" }, 'query: action "clear" does not take "query": it takes no other field'],
  ])("says what is wrong with %s", (_label, input, message) => {
    const result = plugin.inputSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`)).toEqual([message]);
  });

  it("is one object with an action enum, as a model's tool parameters must be", () => {
    const schema = z.toJSONSchema(plugin.inputSchema, { io: "input" }) as Record<string, any>;
    expect(schema).toMatchObject({ type: "object", required: ["action"], additionalProperties: false });
    expect(schema.properties.action.enum).toEqual(["list", "read", "search", "note", "clear"]);
    expect(Object.keys(schema.properties)).toEqual(["action", "limit", "query", "text"]);
    expect(schema).not.toHaveProperty("oneOf");
  });

  it.each<[string, unknown]>([
    ["", { action: "list" }],
    ["list", { action: "list" }],
    ["list 3", { action: "list", limit: 3 }],
    ["read", { action: "read" }],
    ["search Milk", { action: "search", query: "Milk" }],
    ["clear", { action: "clear" }],
    ["clear the table", { action: "note", text: "clear the table" }],
    ["read 5", { action: "read", limit: 5 }],
    ["note buy milk", { action: "note", text: "buy milk" }],
    ["buy milk", { action: "note", text: "buy milk" }],
    ["note  two  spaces", { action: "note", text: "two  spaces" }],
    ["reading list", { action: "note", text: "reading list" }],
  ])("reads the text %j as %j", (text, expected) => {
    const input = plugin.inputFromText(text);
    expect(input).toEqual(expected);
    expect(plugin.inputSchema.safeParse(input).success).toBe(true);
  });

  it("reads text it cannot use into input the schema rejects", () => {
    expect(plugin.inputSchema.safeParse(plugin.inputFromText("read lots")).success).toBe(false);
    expect(plugin.inputSchema.safeParse(plugin.inputFromText("note")).success).toBe(false);
  });

  it("formats a stored note", () => {
    expect(plugin.formatReply({ stored: true, note: "buy milk" })).toBe("Noted: buy milk");
  });

  it("formats messages one per line as role: content", () => {
    const at = new Date().toISOString();
    expect(
      plugin.formatReply({
        messages: [
          { role: "user", content: "hello", at },
          { role: "note", content: "buy milk", at },
        ],
      }),
    ).toBe("user: hello\nnote: buy milk");
  });

  it("formats an empty session", () => {
    expect(plugin.formatReply({ messages: [] })).toBe("This session has no messages yet.");
  });

  it("formats what it read after a note", async () => {
    const { context } = sessionContext("s9");
    await run({ action: "note", text: "remember this" }, context);
    expect(plugin.formatReply(await run(plugin.inputFromText("read"), context))).toBe("note: remember this");
  });

  it("searches the session's messages case-insensitively, newest matches last", async () => {
    const { context } = sessionContext("search");
    await run({ action: "note", text: "buy MILK" }, context);
    await run({ action: "note", text: "call Bob" }, context);
    await run({ action: "note", text: "milk again" }, context);
    const found = await run({ action: "search", query: "milk" }, context);
    expect(found).toMatchObject({ query: "milk", matches: [{ content: "buy MILK" }, { content: "milk again" }] });
    expect(plugin.formatReply(found)).toBe("note: buy MILK\nnote: milk again");
    const limited = await run({ action: "search", query: "milk", limit: 1 }, context);
    expect(limited).toMatchObject({ matches: [{ content: "milk again" }] });
    expect(plugin.formatReply(await run({ action: "search", query: "zebra" }, context))).toMatch(/Nothing .* matches "zebra"/);
  });

  it("clears the session's memory and says how much it forgot", async () => {
    const { context, mem } = sessionContext("clear");
    await run({ action: "note", text: "one" }, context);
    await run({ action: "note", text: "two" }, context);
    const cleared = await run({ action: "clear" }, context);
    expect(cleared).toEqual({ cleared: true, count: 2 });
    expect(plugin.formatReply(cleared)).toBe("Cleared 2 messages from this session's memory.");
    expect(await mem.recent(local("clear"))).toEqual([]);
  });
});
