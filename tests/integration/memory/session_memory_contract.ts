import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import type { MemoryMessage } from "../../../src/memory/memory_message.js";
import type { SessionMemory } from "../../../src/memory/session_memory.js";
import { sessionRef, type SessionRef } from "../../../src/memory/session_ref.js";

interface ContractLimits {
  maxMessages: number;
  ttlSeconds: number;
}

interface ContractSubject {
  memory: SessionMemory;
  cleanup(): Promise<void>;
}

export type MakeSessionMemory = (limits: ContractLimits) => Promise<ContractSubject>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A distinct message; `n` is written into content and a timestamp so that order is visible. */
function message(n: number, extra: Partial<MemoryMessage> = {}): MemoryMessage {
  return {
    role: "user",
    content: `message ${n}`,
    at: new Date(Date.UTC(2024, 0, 1, 0, 0, n % 60, Math.floor(n / 60))).toISOString(),
    ...extra,
  };
}

function messages(from: number, count: number): MemoryMessage[] {
  return Array.from({ length: count }, (_, i) => message(from + i));
}

/** A fresh session of the local caller. */
function sessionId(): SessionRef {
  return sessionRef(localCaller, `s-${randomUUID()}`);
}

/**
 * The one contract every SessionMemory implementation passes. `make` returns a fresh store with
 * the given limits, isolated from every other store it returned (own key prefix, own process map).
 */
export function sessionMemoryContract(name: string, make: MakeSessionMemory): void {
  async function using<T>(limits: ContractLimits, body: (memory: SessionMemory) => Promise<T>): Promise<T> {
    const subject = await make(limits);
    try {
      return await body(subject.memory);
    } finally {
      await subject.cleanup();
    }
  }

  const roomy: ContractLimits = { maxMessages: 50, ttlSeconds: 60 };

  describe(name, () => {
    it("returns appended messages oldest first, equal to what was stored", async () => {
      await using(roomy, async (memory) => {
        const id = sessionId();
        const first: MemoryMessage = { role: "user", content: "hello", at: "2024-01-01T00:00:00.000Z" };
        const second: MemoryMessage = {
          role: "tool",
          content: '{"value":42} with "quotes", unicode é ✓ 😀 and a\nnewline',
          at: "2024-01-01T00:00:01.000Z",
          plugin: "calculator",
        };
        const third: MemoryMessage = { role: "assistant", content: "", at: "2024-01-01T00:00:02.000Z" };
        await memory.append(id, first);
        await memory.append(id, second);
        await memory.append(id, third);
        const recent = await memory.recent(id);
        expect(recent).toStrictEqual([first, second, third]);
        expect(recent[0]).not.toHaveProperty("plugin");
        expect(recent[1]?.plugin).toBe("calculator");
      });
    });

    it("returns copies: changing a returned or appended message does not change what is stored", async () => {
      await using(roomy, async (memory) => {
        const id = sessionId();
        const stored = message(1);
        await memory.append(id, stored);
        stored.content = "changed after append";
        const [returned] = await memory.recent(id);
        expect(returned?.content).toBe("message 1");
        returned!.content = "changed after recent";
        expect((await memory.recent(id))[0]?.content).toBe("message 1");
      });
    });

    it("keeps the order of several messages appended in one call", async () => {
      await using(roomy, async (memory) => {
        const id = sessionId();
        await memory.append(id, message(0));
        const batch = messages(1, 6);
        await memory.append(id, ...batch);
        expect(await memory.recent(id)).toStrictEqual([message(0), ...batch]);
      });
    });

    it("treats an append of no messages as a no-op", async () => {
      await using(roomy, async (memory) => {
        const id = sessionId();
        await memory.append(id);
        expect(await memory.recent(id)).toStrictEqual([]);
        await memory.append(id, message(1));
        await memory.append(id);
        expect(await memory.recent(id)).toStrictEqual([message(1)]);
      });
    });

    it("keeps only the newest maxMessages messages", async () => {
      await using({ maxMessages: 5, ttlSeconds: 60 }, async (memory) => {
        const id = sessionId();
        for (let n = 0; n < 10; n++) await memory.append(id, message(n));
        expect(await memory.recent(id)).toStrictEqual(messages(5, 5));
      });
    });

    it("trims a single append of more than maxMessages messages to the newest", async () => {
      await using({ maxMessages: 5, ttlSeconds: 60 }, async (memory) => {
        const id = sessionId();
        await memory.append(id, message(100));
        await memory.append(id, ...messages(0, 8));
        expect(await memory.recent(id)).toStrictEqual(messages(3, 5));
      });
    });

    it("recent(limit) returns the newest limit messages, capped at maxMessages; limit 0 gives []", async () => {
      await using({ maxMessages: 5, ttlSeconds: 60 }, async (memory) => {
        const id = sessionId();
        await memory.append(id, ...messages(0, 5));
        expect(await memory.recent(id, 2)).toStrictEqual(messages(3, 2));
        expect(await memory.recent(id, 1)).toStrictEqual([message(4)]);
        expect(await memory.recent(id, 5)).toStrictEqual(messages(0, 5));
        expect(await memory.recent(id, 1000)).toStrictEqual(messages(0, 5));
        expect(await memory.recent(id, 0)).toStrictEqual([]);
        // A limit above what the session holds returns what it holds.
        const short = sessionId();
        await memory.append(short, ...messages(0, 2));
        expect(await memory.recent(short, 4)).toStrictEqual(messages(0, 2));
      });
    });

    it("keeps sessions apart, and an unknown session has no messages", async () => {
      await using(roomy, async (memory) => {
        const a = sessionId();
        const b = sessionId();
        await memory.append(a, message(1));
        await memory.append(b, message(2), message(3));
        await memory.append(a, message(4));
        expect(await memory.recent(a)).toStrictEqual([message(1), message(4)]);
        expect(await memory.recent(b)).toStrictEqual([message(2), message(3)]);
        expect(await memory.recent(sessionId())).toStrictEqual([]);
        expect(await memory.recent(sessionId(), 3)).toStrictEqual([]);
      });
    });

    it("keeps two principals' sessions with the same session id apart", async () => {
      await using(roomy, async (memory) => {
        const id = `s-${randomUUID()}`;
        const alice = sessionRef(createCaller("user", "alice"), id);
        const bob = sessionRef(createCaller("user", "bob"), id);
        // The same name in another realm is another principal too.
        const local = sessionRef(createCaller("local", "alice"), id);
        await memory.append(alice, message(1));
        await memory.append(bob, message(2), message(3));
        expect(await memory.recent(alice)).toStrictEqual([message(1)]);
        expect(await memory.recent(bob)).toStrictEqual([message(2), message(3)]);
        expect(await memory.recent(local)).toStrictEqual([]);
        expect(await memory.recent(sessionRef(localCaller, id))).toStrictEqual([]);
        // Clearing one principal's session leaves the other's.
        await memory.clear(bob);
        expect(await memory.recent(bob)).toStrictEqual([]);
        expect(await memory.recent(alice)).toStrictEqual([message(1)]);
      });
    });

    it("clear removes that session only", async () => {
      await using(roomy, async (memory) => {
        const a = sessionId();
        const b = sessionId();
        await memory.append(a, message(1), message(2));
        await memory.append(b, message(3));
        await memory.clear(a);
        expect(await memory.recent(a)).toStrictEqual([]);
        expect(await memory.recent(b)).toStrictEqual([message(3)]);
        // Clearing an unknown session is harmless, and a cleared session can be used again.
        await memory.clear(sessionId());
        await memory.append(a, message(5));
        expect(await memory.recent(a)).toStrictEqual([message(5)]);
      });
    });

    // The waits of the time-to-live tests overlap; each uses its own store.
    it.concurrent("forgets a session once its time to live has passed", async ({ expect }) => {
      await using({ maxMessages: 5, ttlSeconds: 1 }, async (memory) => {
        const id = sessionId();
        await memory.append(id, message(1), message(2));
        expect(await memory.recent(id)).toStrictEqual([message(1), message(2)]);
        await sleep(1200);
        expect(await memory.recent(id)).toStrictEqual([]);
        // A new append after expiry starts from an empty session.
        await memory.append(id, message(3));
        expect(await memory.recent(id)).toStrictEqual([message(3)]);
      });
    });

    it.concurrent("renews the time to live on every append", async ({ expect }) => {
      await using({ maxMessages: 5, ttlSeconds: 1 }, async (memory) => {
        const id = sessionId();
        await memory.append(id, message(1));
        await sleep(600);
        await memory.append(id, message(2));
        await sleep(600);
        // 1.2 s after the first append, 0.6 s after the second: the whole session is still there.
        expect(await memory.recent(id)).toStrictEqual([message(1), message(2)]);
      });
    });

    it.concurrent("reading does not renew the time to live", async ({ expect }) => {
      await using({ maxMessages: 5, ttlSeconds: 1 }, async (memory) => {
        const id = sessionId();
        await memory.append(id, message(1));
        await sleep(600);
        expect(await memory.recent(id)).toStrictEqual([message(1)]);
        await sleep(600);
        expect(await memory.recent(id)).toStrictEqual([]);
      });
    });

    it("keeps exactly maxMessages distinct messages under 20 concurrent appends, never more", async () => {
      await using({ maxMessages: 10, ttlSeconds: 60 }, async (memory) => {
        const id = sessionId();
        const sent = messages(0, 20);
        const observed: MemoryMessage[][] = [];
        await Promise.all([
          ...sent.map((m) => memory.append(id, m)),
          // Readers interleaved with the writers: every snapshot is within the cap and has no duplicates.
          ...Array.from({ length: 10 }, () => memory.recent(id, 1000).then((r) => void observed.push(r))),
        ]);
        const kept = await memory.recent(id, 1000);
        expect(kept).toHaveLength(10);
        const contents = kept.map((m) => m.content);
        expect(new Set(contents).size).toBe(10);
        for (const m of kept) expect(sent).toContainEqual(m);
        expect(observed).toHaveLength(10);
        for (const snapshot of observed) {
          expect(snapshot.length).toBeLessThanOrEqual(10);
          expect(new Set(snapshot.map((m) => m.content)).size).toBe(snapshot.length);
        }
      });
    });

    it("ping resolves", async () => {
      await using(roomy, async (memory) => {
        await expect(memory.ping()).resolves.toBeUndefined();
      });
    });
  });
}
