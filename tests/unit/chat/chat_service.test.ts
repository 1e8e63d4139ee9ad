import { afterEach, describe, expect, it } from "vitest";
import { pluginClasses } from "../../../plugins/index.js";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { failureOf } from "../../support/failure_of.js";
import { loadConfig } from "../../../src/config/config.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { sessionIdPattern } from "../../../src/memory/session_id.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { createServices, type Services } from "../../../src/services.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

let services: Services | undefined;

/** A session of the local caller, the one caller of AUTH_MODE=none. */
const local = (sessionId: string) => sessionRef(localCaller, sessionId);

function build(): { services: Services; audit: RecordingAuditLog } {
  const audit = new RecordingAuditLog();
  services = createServices(loadConfig({ LOG_LEVEL: "error" }), { plugins: pluginClasses, storage: undefined, logger: silentLogger, audit });
  return { services, audit };
}

afterEach(async () => {
  await services?.close();
});

describe("ChatService", () => {
  it("runs /run <plugin> <input>, replies with the result and remembers and audits both sides", async () => {
    const { services, audit } = build();
    const reply = await services.chat.handle({ caller: localCaller, message: "/run echo hello", sessionId: "s1" });
    expect(reply).toMatchObject({ sessionId: "s1", reply: "hello", source: "plugin", plugin: "echo", result: "hello" });

    const memory = await services.memory.recent(local("s1"));
    expect(memory.map((m) => [m.role, m.content])).toEqual([
      ["user", "/run echo hello"],
      ["assistant", "hello"],
    ]);
    expect(audit.of(local("s1")).map((e) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
    expect(audit.of(local("s1"))[1]).toMatchObject({ plugin: "echo", input: "hello", result: "hello", outcome: "success", runId: reply.runId });
  });

  it("gives a request without a session id a new one", async () => {
    const { services } = build();
    const reply = await services.chat.handle({ caller: localCaller, message: "/run calculator 2+3*4" });
    expect(reply.sessionId).toMatch(sessionIdPattern);
    expect(reply.reply).toBe("14");
    const again = await services.chat.handle({ caller: localCaller, message: "/run calculator 1+1" });
    expect(again.sessionId).not.toBe(reply.sessionId);
  });

  it("runs /run in a turn of no session (record: false) without remembering or auditing anything", async () => {
    const { services, audit } = build();
    const reply = await services.chat.handle({ caller: localCaller, message: "/run calculator 2+3*4", record: false });
    expect(reply).toMatchObject({ reply: "14", source: "plugin", plugin: "calculator" });
    expect(audit.entries).toEqual([]);
    expect(await services.memory.recent(local(reply.sessionId))).toEqual([]);
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "/run calculator 1/0", record: false }));
    expect(error.code).toBe("invalid_input");
    expect(audit.entries).toEqual([]);
  });

  it("resolves aliases and accepts a JSON object as input", async () => {
    const { services } = build();
    expect((await services.chat.handle({ caller: localCaller, message: '/run test {"text":"json"}', sessionId: "s2" })).reply).toBe("json");
  });

  it("answers free text with llm_unavailable, keeping the message in memory and in the audit log", async () => {
    const { services, audit } = build();
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "hello there", sessionId: "s3" }));
    expect(error.code).toBe("llm_unavailable");
    expect(error.details).toMatchObject({ sessionId: "s3" });
    expect((await services.memory.recent(local("s3"))).map((m) => m.content)).toEqual(["hello there"]);
    expect(audit.of(local("s3")).map((e) => [e.type, e.outcome])).toEqual([
      ["user_message", undefined],
      ["reply", "llm_unavailable"],
    ]);
  });

  it("reports a failing run with its code, audits it, and tells a new caller its session id", async () => {
    const { services, audit } = build();
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "/run calculator 1/0" }));
    expect(error.code).toBe("invalid_input");
    expect(error.details).toMatchObject({ position: 1, sessionId: expect.stringMatching(sessionIdPattern) });
    const sessionId = (error.details as { sessionId: string }).sessionId;
    expect(audit.of(local(sessionId)).map((e) => [e.type, e.outcome])).toEqual([
      ["user_message", undefined],
      ["plugin_run", "invalid_input"],
      ["reply", "invalid_input"],
    ]);
  });

  it.each([
    ["/run", "invalid_request"],
    ["/run nope x", "plugin_not_found"],
    ["/run calculator {bad", "invalid_input"],
    // Disabled without SHELL_PLUGIN_ALLOWED_COMMANDS: refused before its input is read.
    ["/run shell {bad", "plugin_disabled"],
  ])("answers %j with %s", async (message, code) => {
    const { services } = build();
    expect((await failureOf(services.chat.handle({ caller: localCaller, message, sessionId: "s4" }))).code).toBe(code);
  });

  it("runs the memory plugin on the chat's own session", async () => {
    const { services } = build();
    await services.chat.handle({ caller: localCaller, message: "/run memory note the code is 42", sessionId: "s5" });
    const reply = await services.chat.handle({ caller: localCaller, message: "/run memory read", sessionId: "s5" });
    expect(reply.reply).toContain("note: the code is 42");
    expect(reply.reply).toContain("user: /run memory note the code is 42");
  });

  it("keeps two callers' sessions of the same id apart: memory, plugin memory and audit", async () => {
    const { services, audit } = build();
    const alice = createCaller("user", "alice");
    const bob = createCaller("user", "bob");
    await services.chat.handle({ caller: alice, message: "/run memory note alice's secret", sessionId: "s7" });
    const read = await services.chat.handle({ caller: bob, message: "/run memory read", sessionId: "s7" });
    expect(read.sessionId).toBe("s7");
    expect(read.reply).not.toContain("alice's secret");
    expect((await services.memory.recent(sessionRef(alice, "s7"))).map((m) => m.content)).toContain("/run memory note alice's secret");
    expect((await services.memory.recent(sessionRef(bob, "s7"))).map((m) => m.content)).not.toContain("/run memory note alice's secret");
    expect(await services.memory.recent(local("s7"))).toEqual([]);
    expect(audit.of(sessionRef(alice, "s7")).map((e) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
    expect(audit.of(sessionRef(bob, "s7")).map((e) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
    expect(audit.of(sessionRef(bob, "s7")).map((e) => e.content ?? "")).not.toContain("/run memory note alice's secret");
    // Each entry carries the plain session id the caller used.
    expect(audit.entries.every((e) => e.sessionId === "s7")).toBe(true);
  });

  it("records a /run turn as one audit transaction in order, with exactly one outcome", async () => {
    const { services, audit } = build();
    await services.chat.handle({ caller: localCaller, message: "/run echo one", sessionId: "t1" });
    await services.chat.handle({ caller: localCaller, message: "/run memory clear", sessionId: "t1" });
    expect(audit.appends).toBe(0);
    expect(audit.turns.map((entries) => entries.map((e) => e.type))).toEqual([
      ["user_message", "plugin_run", "reply"],
      // What the memory plugin did is part of the turn that ran it, before the run's own entry.
      ["user_message", "memory_cleared", "plugin_run", "reply"],
    ]);
    // The clear took the turn's own message with it, as it did when memory was written first.
    expect((await services.memory.recent(local("t1"))).map((m) => m.role)).toEqual(["assistant"]);
  });

  it("has a streamed turn in the audit log before its final reply event", async () => {
    const { services, audit } = build();
    const seen: [string, number][] = [];
    for await (const event of services.chat.events({ caller: localCaller, message: "/run echo streamed", sessionId: "t3" }, true)) {
      seen.push([event.type, audit.turns.length]);
    }
    expect(seen).toEqual([
      ["session", 0],
      ["reply", 1],
    ]);
  });

  it("records a failed turn as one transaction: its message, its run and one failure reply", async () => {
    const { services, audit } = build();
    await failureOf(services.chat.handle({ caller: localCaller, message: "/run calculator 1/0", sessionId: "t2" }));
    await failureOf(services.chat.handle({ caller: localCaller, message: "free text", sessionId: "t2" }));
    expect(audit.appends).toBe(0);
    expect(audit.turns.map((entries) => entries.map((e) => [e.type, e.outcome]))).toEqual([
      [
        ["user_message", undefined],
        ["plugin_run", "invalid_input"],
        ["reply", "invalid_input"],
      ],
      [
        ["user_message", undefined],
        ["reply", "llm_unavailable"],
      ],
    ]);
  });

  it("does not acknowledge a reply whose audit record could not be written", async () => {
    const { services, audit } = build();
    audit.failWrites = true;
    expect((await failureOf(services.chat.handle({ caller: localCaller, message: "/run echo x", sessionId: "s6" }))).code).toBe("storage_unavailable");
    // The audit is the commit point: a turn it lacks is not in memory either.
    expect(await services.memory.recent(local("s6"))).toEqual([]);
  });
});
