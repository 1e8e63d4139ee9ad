import { randomUUID } from "node:crypto";
import { odata, TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { describe, expect, inject, it } from "vitest";
import type { AuditEntry, AuditEvent } from "../../../src/audit/audit_event.js";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { rowKeyPattern } from "../../../src/audit/row_key.js";
import { encodeCursor, TableAuditLog } from "../../../src/audit/table_audit_log.js";
import { azuriteConnectionString } from "../../../src/azure/connection_string.js";
import { createStorageClients, type StorageClients } from "../../../src/azure/storage_clients.js";
import { sessionRef, type SessionRef } from "../../../src/memory/session_ref.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";

const noCredential = () => {
  throw new Error("no credential needed");
};

const storage: StorageClients = createStorageClients({ kind: "connectionString", connectionString: inject("storageConnectionString") }, noCredential);

function uniqueTableName(): string {
  return `audit${randomUUID().replace(/-/g, "")}`;
}

/** A fresh session of the local caller. */
function uniqueSession(): SessionRef {
  return sessionRef(localCaller, `s-${randomUUID()}`);
}

/** A log over a table of its own, which does not exist yet. */
function freshLog(): { log: TableAuditLog; tableName: string } {
  const tableName = uniqueTableName();
  return { log: new TableAuditLog(storage.table(tableName)), tableName };
}

async function tableExists(tableName: string): Promise<boolean> {
  const found: string[] = [];
  for await (const table of storage.tableService().listTables({ queryOptions: { filter: odata`TableName eq ${tableName}` } })) {
    if (table.name) found.push(table.name);
  }
  return found.includes(tableName);
}

/** Every entry of a session, following cursors, with the size of each page. */
async function listAll(log: TableAuditLog, session: SessionRef, limit: number): Promise<{ entries: AuditEntry[]; pageSizes: number[] }> {
  const entries: AuditEntry[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await log.list(session, { limit, cursor });
    entries.push(...page.entries);
    pageSizes.push(page.entries.length);
    if (page.nextCursor === null) return { entries, pageSizes };
    cursor = page.nextCursor;
  }
  throw new Error("paging did not end");
}

describe("TableAuditLog against Azurite", () => {
  it("creates its table on first use", async () => {
    const { log, tableName } = freshLog();
    expect(await tableExists(tableName)).toBe(false);
    const session = uniqueSession();
    const entry = await log.append(session, { type: "user_message", content: "first" });
    expect(await tableExists(tableName)).toBe(true);
    expect((await log.list(session, { limit: 10 })).entries).toStrictEqual([entry]);
  });

  it("lists a session of a table that does not exist yet as empty, creating the table", async () => {
    const { log, tableName } = freshLog();
    expect(await log.list(uniqueSession(), { limit: 5 })).toStrictEqual({ entries: [], nextCursor: null });
    expect(await tableExists(tableName)).toBe(true);
  });

  it("append returns the stored entry, and list returns the entries oldest first, equal to what append returned", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const before = Date.now();
    const events: AuditEvent[] = [
      { type: "user_message", content: "what is 2+3?" },
      {
        type: "plugin_run",
        plugin: "calculator",
        runId: "run-1",
        input: { expression: "2+3", nested: { list: [1, "two", null, true], empty: {} } },
        result: { value: 5, text: "five", unicode: "é ✓ 😀" },
        outcome: "success",
        durationMs: 12,
      },
      {
        type: "plugin_run",
        plugin: "calculator",
        runId: "run-2",
        input: ["a", 1],
        result: null,
        outcome: "plugin_timeout",
        errorMessage: "took too long",
        durationMs: 5000.5,
      },
      { type: "reply", content: "2+3 = 5", source: "plugin", plugin: "calculator" },
      { type: "memory_cleared" },
    ];
    const appended: AuditEntry[] = [];
    for (const event of events) appended.push(await log.append(session, event));
    const after = Date.now();

    appended.forEach((entry, i) => {
      expect(entry.id).toMatch(rowKeyPattern);
      // An entry carries the caller's own session id, not the storage partition.
      expect(entry.sessionId).toBe(session.sessionId);
      expect(entry.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(new Date(entry.timestamp).toISOString()).toBe(entry.timestamp);
      const at = Date.parse(entry.timestamp);
      expect(at).toBeGreaterThanOrEqual(before);
      expect(at).toBeLessThanOrEqual(after);
      expect(entry).toStrictEqual({ id: entry.id, sessionId: session.sessionId, timestamp: entry.timestamp, ...events[i] });
      expect(entry).not.toHaveProperty("truncated");
    });
    const ids = appended.map((e) => e.id);
    expect([...ids].sort()).toStrictEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);

    const page = await log.list(session, { limit: 50 });
    expect(page.nextCursor).toBeNull();
    expect(page.entries).toStrictEqual(appended);
    // Objects come back as objects, not as JSON text.
    expect(page.entries[1]?.input).toStrictEqual({ expression: "2+3", nested: { list: [1, "two", null, true], empty: {} } });
    expect(typeof page.entries[1]?.result).toBe("object");
    expect(page.entries[2]?.result).toBeNull();
  });

  it("appendTurn writes a turn of 150 entries as two transactions of 100 and 50, listed in the turn's order", async () => {
    const { log, tableName } = freshLog();
    const session = uniqueSession();
    const transactions: number[] = [];
    // Count the entity-group transactions that reach the table (each is one `$batch` request).
    const counted = new TableAuditLog(
      TableClient.fromConnectionString(inject("storageConnectionString"), tableName, {
        allowInsecureConnection: true,
        additionalPolicies: [{ position: "perCall", policy: batchCounter(transactions) }],
      }),
    );
    // The table is created first, so that only the turn's requests are counted.
    await log.list(session, { limit: 1 });
    const events: AuditEvent[] = Array.from({ length: 150 }, (_, i) => ({ type: "tool_call", plugin: "echo", input: { i } }));
    const written = await counted.appendTurn(session, events);
    expect(transactions).toHaveLength(2);
    const listed = (await log.list(session, { limit: 200 })).entries;
    expect(listed.map((entry) => (entry.input as { i: number }).i)).toEqual(events.map((_, i) => i));
    expect(listed).toEqual(written);
  });

  it("appendTurn writes nothing of a turn whose transaction fails", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    // Two entities with the same RowKey: the table refuses the transaction, and with it the first entity.
    const sameKey = new TableAuditLog((log as unknown as { table: TableClient }).table, () => "000000000000001-000000-00000000");
    const error = await failureOf(
      sameKey.appendTurn(session, [
        { type: "user_message", content: "a" },
        { type: "reply", outcome: "success" },
      ]),
    );
    expect(error.code).toBe("storage_unavailable");
    expect((await log.list(session, { limit: 10 })).entries).toEqual([]);
  });

  it("pages 7 entries by 3 as 3, 3, 1 with cursors on all but the last page, nothing repeated or missing", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const appended: AuditEntry[] = [];
    for (let n = 0; n < 7; n++) appended.push(await log.append(session, { type: "user_message", content: `m${n}` }));

    const first = await log.list(session, { limit: 3 });
    expect(first.entries).toStrictEqual(appended.slice(0, 3));
    expect(typeof first.nextCursor).toBe("string");
    const second = await log.list(session, { limit: 3, cursor: first.nextCursor! });
    expect(second.entries).toStrictEqual(appended.slice(3, 6));
    expect(typeof second.nextCursor).toBe("string");
    const third = await log.list(session, { limit: 3, cursor: second.nextCursor! });
    expect(third.entries).toStrictEqual(appended.slice(6));
    expect(third.nextCursor).toBeNull();

    // A cursor can be used again and gives the same page.
    expect(await log.list(session, { limit: 3, cursor: first.nextCursor! })).toStrictEqual(second);
  });

  it("gives no cursor on an exactly full last page (6 entries by 3)", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const appended: AuditEntry[] = [];
    for (let n = 0; n < 6; n++) appended.push(await log.append(session, { type: "reply", content: `r${n}`, source: "llm" }));
    const { entries, pageSizes } = await listAll(log, session, 3);
    expect(pageSizes).toStrictEqual([3, 3]);
    expect(entries).toStrictEqual(appended);
    // Page sizes of 1 and of everything at once agree.
    expect((await listAll(log, session, 1)).entries).toStrictEqual(appended);
    expect(await log.list(session, { limit: 6 })).toStrictEqual({ entries: appended, nextCursor: null });
  });

  it("rejects a cursor it did not hand out with invalid_request", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    await log.append(session, { type: "user_message", content: "x" });
    const invalid = [
      "not-a-cursor",
      "",
      encodeCursor("000000000000001-000000-0000000g"),
      encodeCursor("' or RowKey ne '"),
      encodeCursor("000001700000000000-000000-deadbeef"),
    ];
    for (const cursor of invalid) {
      const error = await failureOf(log.list(session, { limit: 3, cursor }));
      expect(error.code, cursor).toBe("invalid_request");
    }
  });

  it("keeps sessions apart, also against an OData injection through the session id", async () => {
    const { log } = freshLog();
    const a = uniqueSession();
    const b = uniqueSession();
    const inA = [await log.append(a, { type: "user_message", content: "a1" }), await log.append(a, { type: "reply", content: "a2" })];
    const inB = [await log.append(b, { type: "user_message", content: "b1" })];
    expect((await log.list(a, { limit: 10 })).entries).toStrictEqual(inA);
    expect((await log.list(b, { limit: 10 })).entries).toStrictEqual(inB);
    expect(await log.list(uniqueSession(), { limit: 10 })).toStrictEqual({ entries: [], nextCursor: null });

    const injections = [`x' or PartitionKey ne 'x`, `${a.sessionId}' or PartitionKey ne '`, `' or true or '`, `x' or RowKey gt '`];
    for (const injection of injections) {
      expect(await log.list(sessionRef(localCaller, injection), { limit: 10 }), injection).toStrictEqual({ entries: [], nextCursor: null });
    }
    // A session whose id contains a quote is stored and found under exactly that id.
    const quoted = sessionRef(localCaller, `${uniqueSession().sessionId}' or PartitionKey ne 'x`);
    const own = await log.append(quoted, { type: "user_message", content: "quoted" });
    expect(own.sessionId).toBe(quoted.sessionId);
    expect((await log.list(quoted, { limit: 10 })).entries).toStrictEqual([own]);
    expect((await log.list(a, { limit: 10 })).entries).toStrictEqual(inA);
  });

  it("keeps two principals' sessions with the same session id apart, in partitions <principalKey>:<sessionId>", async () => {
    const { log, tableName } = freshLog();
    const id = `s-${randomUUID()}`;
    const alice = createCaller("user", "alice");
    const bob = createCaller("user", "bob");
    const ofAlice = [await log.append(sessionRef(alice, id), { type: "user_message", content: "alice's" })];
    const ofBob = [
      await log.append(sessionRef(bob, id), { type: "user_message", content: "bob's" }),
      await log.append(sessionRef(bob, id), { type: "reply", content: "to bob", source: "llm" }),
    ];
    // Both entries carry the plain session id the caller used.
    for (const entry of [...ofAlice, ...ofBob]) expect(entry.sessionId).toBe(id);
    expect(await log.list(sessionRef(alice, id), { limit: 10 })).toStrictEqual({ entries: ofAlice, nextCursor: null });
    expect(await log.list(sessionRef(bob, id), { limit: 10 })).toStrictEqual({ entries: ofBob, nextCursor: null });
    // The local caller, or a user of the same name from another realm, has an empty session of that id.
    expect(await log.list(sessionRef(localCaller, id), { limit: 10 })).toStrictEqual({ entries: [], nextCursor: null });
    expect(await log.list(sessionRef(createCaller("local", "alice"), id), { limit: 10 })).toStrictEqual({ entries: [], nextCursor: null });

    const partitions: string[] = [];
    for await (const entity of storage.table(tableName).listEntities()) partitions.push(entity.partitionKey!);
    expect(partitions.sort()).toStrictEqual([`${alice.principalKey}:${id}`, `${bob.principalKey}:${id}`, `${bob.principalKey}:${id}`].sort());
  });

  it("stores a field longer than the limit truncated, marked truncated: true", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const long = "x".repeat(100_000);
    const entry = await log.append(session, { type: "reply", content: long, errorMessage: "short", source: "llm" });
    expect(entry.truncated).toBe(true);
    expect(entry.content!.length).toBeLessThan(long.length);
    expect(entry.content!.length).toBeGreaterThan(1000);
    expect(long.startsWith(entry.content!.replace(/…\[truncated\]$/, ""))).toBe(true);
    expect(entry.content).toMatch(/…\[truncated\]$/);
    expect(entry.errorMessage).toBe("short");
    expect((await log.list(session, { limit: 5 })).entries).toStrictEqual([entry]);
  });

  it("stores an input object longer than the limit as its truncated JSON text", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const input = { items: Array.from({ length: 10_000 }, (_, i) => `item-${i}`) };
    const entry = await log.append(session, { type: "plugin_run", plugin: "p", input, result: { ok: true } });
    expect(entry.truncated).toBe(true);
    expect(typeof entry.input).toBe("string");
    expect(JSON.stringify(input).startsWith((entry.input as string).replace(/…\[truncated\]$/, ""))).toBe(true);
    expect(entry.result).toStrictEqual({ ok: true });
    expect((await log.list(session, { limit: 5 })).entries).toStrictEqual([entry]);
  });

  it("cuts text at the limit without splitting a surrogate pair, into a value that reads back unchanged", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    // One ASCII character, then surrogate pairs: the cut at the limit falls between the two halves of a pair.
    const long = `a${"😀".repeat(50_000)}`;
    const entry = await log.append(session, { type: "reply", content: long, source: "llm" });
    expect(entry.truncated).toBe(true);
    const kept = entry.content!;
    // Compared as short descriptions, so that a failure does not print 60,000 characters.
    const describeText = (text: string | undefined) => ({
      length: text?.length,
      loneSurrogates: text?.match(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g)?.length ?? 0,
      ending: JSON.stringify(text?.slice(-16)),
    });
    // No lone surrogate: the kept text is valid Unicode, and a prefix of what was written.
    expect.soft(describeText(kept).loneSurrogates).toBe(0);
    expect(long.startsWith(kept.replace(/…\[truncated\]$/, ""))).toBe(true);
    const [listed] = (await log.list(session, { limit: 5 })).entries;
    expect.soft(describeText(listed?.content)).toStrictEqual(describeText(kept));
    expect(listed?.content === kept).toBe(true);
  });

  it("keeps all of 50 concurrent appends to one session, in the order of their ids, with unique ids", async () => {
    const { log } = freshLog();
    const session = uniqueSession();
    const appended = await Promise.all(Array.from({ length: 50 }, (_, n) => log.append(session, { type: "user_message", content: `c${n}` })));
    const ids = appended.map((e) => e.id);
    expect(new Set(ids).size).toBe(50);
    for (const id of ids) expect(id).toMatch(rowKeyPattern);

    const listed = await log.list(session, { limit: 100 });
    expect(listed.nextCursor).toBeNull();
    expect(listed.entries).toHaveLength(50);
    const listedIds = listed.entries.map((e) => e.id);
    expect(listedIds).toStrictEqual([...ids].sort());
    expect([...listed.entries].sort((x, y) => x.content!.localeCompare(y.content!, "en", { numeric: true }))).toStrictEqual(appended);
    // Ids are issued in call order within a process.
    expect(listedIds).toStrictEqual(ids);
  });

  describe("when nothing listens on the table endpoint", () => {
    it("rejects append and list with storage_unavailable", { timeout: 40_000 }, async () => {
      const port = await freePort();
      const dead = createStorageClients(
        { kind: "connectionString", connectionString: azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }) },
        noCredential,
      );
      const log = new TableAuditLog(dead.table(uniqueTableName()));
      const session = uniqueSession();
      const started = Date.now();
      const [appendError, listError] = await Promise.all([
        failureOf(log.append(session, { type: "user_message", content: "lost" })),
        failureOf(log.list(session, { limit: 3 })),
      ]);
      expect(appendError.code).toBe("storage_unavailable");
      expect(listError.code).toBe("storage_unavailable");
      expect(Date.now() - started).toBeLessThan(15_000);
      // A failed table creation is not remembered: the next call tries, and fails, again.
      expect((await failureOf(log.list(session, { limit: 3 }))).code).toBe("storage_unavailable");
    });
  });
});

type PipelinePolicy = NonNullable<TableServiceClientOptions["additionalPolicies"]>[number]["policy"];

/** A pipeline policy that notes each entity-group transaction request (`POST .../$batch`). */
function batchCounter(seen: number[]): PipelinePolicy {
  return {
    name: "batchCounter",
    sendRequest: (request, next) => {
      if (request.url.includes("$batch")) seen.push(seen.length + 1);
      return next(request);
    },
  };
}
