import { describe, expect, it } from "vitest";
import { TurnRecord } from "../../../src/audit/turn_record.js";
import { localCaller } from "../../../src/auth/caller.js";
import { AppError } from "../../../src/errors/app_error.js";
import { createLogger, type LogLevel } from "../../../src/logging/logger.js";
import { InProcessSessionMemory } from "../../../src/memory/in_process_session_memory.js";
import type { MemoryMessage } from "../../../src/memory/memory_message.js";
import type { SessionRef } from "../../../src/memory/session_ref.js";
import { sessionRef } from "../../../src/memory/session_ref.js";
import { failureOf } from "../../support/failure_of.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

/** Session memory whose writes fail (Redis down), counting them. */
class FailingMemory extends InProcessSessionMemory {
  appends = 0;
  override async append(_session: SessionRef, ..._messages: MemoryMessage[]): Promise<void> {
    this.appends++;
    throw new AppError("memory_unavailable", "session memory could not be written");
  }
}

const session = sessionRef(localCaller, "t1");
const message = (content: string): MemoryMessage => ({ role: "user", content, at: new Date().toISOString() });

function logged(): { lines: { level: LogLevel; line: string }[]; logger: ReturnType<typeof createLogger> } {
  const lines: { level: LogLevel; line: string }[] = [];
  return { lines, logger: createLogger("debug", (level, line) => lines.push({ level, line })) };
}

describe("TurnRecord", () => {
  it("writes its entries as one appendTurn in order, then its messages in one memory append", async () => {
    const audit = new RecordingAuditLog();
    const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
    const turn = new TurnRecord(session);
    turn.record({ type: "user_message", content: "hi" });
    turn.remember(message("hi"));
    turn.record({ type: "reply", content: "hello", outcome: "success" });
    turn.remember({ role: "assistant", content: "hello", at: new Date().toISOString() });
    await turn.commit({ audit, memory, logger: logged().logger });
    expect(audit.turns.map((entries) => entries.map((e) => e.type))).toEqual([["user_message", "reply"]]);
    expect(audit.appends).toBe(0);
    expect((await memory.recent(session)).map((m) => m.content)).toEqual(["hi", "hello"]);
  });

  it("writes nothing to memory when the audit transaction fails", async () => {
    const audit = new RecordingAuditLog();
    audit.failWrites = true;
    const memory = new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 });
    const turn = new TurnRecord(session);
    turn.record({ type: "user_message", content: "hi" });
    turn.remember(message("hi"));
    expect((await failureOf(turn.commit({ audit, memory, logger: logged().logger }))).code).toBe("storage_unavailable");
    expect(await memory.recent(session)).toEqual([]);
    expect(audit.entries).toEqual([]);
  });

  it("stands once the audit committed when memory cannot be written: tried twice, then logged", async () => {
    const audit = new RecordingAuditLog();
    const memory = new FailingMemory({ maxMessages: 10, ttlSeconds: 60 });
    const { lines, logger } = logged();
    const turn = new TurnRecord(session);
    turn.record({ type: "user_message", content: "hi" });
    turn.remember(message("hi"));
    await turn.commit({ audit, memory, logger });
    expect(memory.appends).toBe(2);
    expect(audit.turns).toHaveLength(1);
    expect(lines.filter((l) => l.level === "warn" && l.line.includes("session memory missed a recorded turn"))).toHaveLength(1);
  });

  it("does not wait on memory again for a turn that failed because memory was unavailable: not written, logged", async () => {
    const audit = new RecordingAuditLog();
    const memory = new FailingMemory({ maxMessages: 10, ttlSeconds: 60 });
    const { lines, logger } = logged();
    const turn = new TurnRecord(session);
    turn.record({ type: "user_message", content: "/run memory list" });
    turn.remember(message("/run memory list"));
    turn.record({ type: "plugin_run", plugin: "memory", outcome: "memory_unavailable" });
    turn.record({ type: "reply", outcome: "memory_unavailable", errorMessage: "session memory is unavailable" });
    await turn.commit({ audit, memory, logger });
    expect(audit.turns.map((entries) => entries.map((e) => e.type))).toEqual([["user_message", "plugin_run", "reply"]]);
    expect(memory.appends).toBe(0);
    expect(lines.filter((l) => l.level === "warn" && l.line.includes("session memory missed a recorded turn"))).toHaveLength(1);
  });

  it("takes nothing more once committed", async () => {
    const turn = new TurnRecord(session);
    await turn.commit({ audit: new RecordingAuditLog(), memory: new InProcessSessionMemory({ maxMessages: 10, ttlSeconds: 60 }), logger: logged().logger });
    expect(() => turn.record({ type: "memory_cleared" })).toThrow(/already recorded/);
  });
});
