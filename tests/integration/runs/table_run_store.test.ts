import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { createStorageClients } from "../../../src/azure/storage_clients.js";
import { BlobResultStore } from "../../../src/runs/blob_result_store.js";
import { newRunRecord, type RunRecord } from "../../../src/runs/run_record.js";
import { StorageRunQueue } from "../../../src/runs/storage_run_queue.js";
import { TableRunStore } from "../../../src/runs/table_run_store.js";
import { azuriteConnectionString } from "../../../src/azure/connection_string.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";

const noCredential = () => {
  throw new Error("no credential needed");
};
const storage = createStorageClients({ kind: "connectionString", connectionString: inject("storageConnectionString") }, noCredential);
const unique = () => randomUUID().replace(/-/g, "").slice(0, 16);
const owner = localCaller.principalKey;

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  const at = new Date().toISOString();
  return { ...newRunRecord({ owner, runId: `r-${randomUUID()}`, plugin: "echo", state: "queued", sessionId: undefined, source: "http" }, at), ...overrides };
}

describe("TableRunStore (Azurite)", () => {
  const store = new TableRunStore(storage.table(`runs${unique()}`));

  it("creates the table on first use, and reads back what it created, field for field", async () => {
    const created = record({
      sessionId: "s-1",
      error: { code: "plugin_busy", message: "busy" },
      messageText: "text",
      durationMs: 12,
      leaseUntil: new Date().toISOString(),
      principalId: "alice-object-id",
      roles: ["admin", "reader"],
      messageDigest: "d".repeat(64),
    });
    const stored = await store.create(created);
    expect(stored).not.toBe("exists");
    const read = await store.get(owner, created.runId);
    expect(read?.record).toEqual(created);
    expect(read?.etag).toEqual(expect.any(String));
    expect(await store.get(owner, `missing-${randomUUID()}`)).toBeUndefined();
    // A caller without roles reads back an empty list, not undefined.
    const noRoles = record({ principalId: "bob", roles: [] });
    await store.create(noRoles);
    expect((await store.get(owner, noRoles.runId))?.record.roles).toEqual([]);
  });

  it("refuses to create a run that exists: the claim of a new run", async () => {
    const first = record();
    expect(await store.create(first)).not.toBe("exists");
    expect(await store.create({ ...first, plugin: "calculator" })).toBe("exists");
    expect((await store.get(owner, first.runId))?.record.plugin).toBe("echo");
  });

  it("replaces only the version that was read (If-Match): of two writers with one ETag, one wins", async () => {
    const created = record();
    await store.create(created);
    const read = (await store.get(owner, created.runId))!;
    const results = await Promise.all([
      store.replace({ ...read.record, state: "running", attempts: 1 }, read.etag),
      store.replace({ ...read.record, state: "running", attempts: 1, plugin: "other" }, read.etag),
    ]);
    expect(results.filter((r) => r === "conflict")).toHaveLength(1);
    const winner = results.find((r) => r !== "conflict");
    expect(winner).toMatchObject({ record: { state: "running" } });
    // The loser's ETag is stale from now on; the winner's is current.
    expect(await store.replace({ ...read.record, state: "failed" }, read.etag)).toBe("conflict");
    expect(await store.replace({ ...read.record, state: "succeeded" }, (winner as { etag: string }).etag)).not.toBe("conflict");
    expect((await store.get(owner, created.runId))?.record.state).toBe("succeeded");
  });

  it("removes a record only at the version read, and a missing one quietly", async () => {
    const created = record();
    const stale = await store.create(created);
    if (stale === "exists") throw new Error("unexpected");
    const current = await store.replace({ ...created, state: "running" }, stale.etag);
    if (current === "conflict") throw new Error("unexpected");
    await store.remove(owner, created.runId, stale.etag);
    expect(await store.get(owner, created.runId)).toBeDefined();
    await store.remove(owner, created.runId, current.etag);
    expect(await store.get(owner, created.runId)).toBeUndefined();
    await store.remove(owner, created.runId, current.etag);
    expect(await store.replace(created, current.etag)).toBe("conflict");
  });

  it("keeps the same run id under two owners as two runs", async () => {
    const runId = `r-${randomUUID()}`;
    const alice = createCaller("user", "alice").principalKey;
    const bob = createCaller("user", "bob").principalKey;
    const ofAlice = record({ owner: alice, runId, plugin: "echo", principalId: "alice" });
    const ofBob = record({ owner: bob, runId, plugin: "calculator", principalId: "bob" });
    const storedAlice = await store.create(ofAlice);
    expect(storedAlice).not.toBe("exists");
    // Another owner's run of that id is no obstacle to the claim of a new one.
    expect(await store.create(ofBob)).not.toBe("exists");
    expect(await store.create({ ...ofBob, plugin: "other" })).toBe("exists");
    expect((await store.get(alice, runId))?.record).toEqual(ofAlice);
    expect((await store.get(bob, runId))?.record).toEqual(ofBob);
    expect(await store.get(owner, runId)).toBeUndefined();
    // Removing one owner's run leaves the other's.
    if (storedAlice === "exists") throw new Error("unexpected");
    await store.remove(alice, runId, storedAlice.etag);
    expect(await store.get(alice, runId)).toBeUndefined();
    expect((await store.get(bob, runId))?.record).toEqual(ofBob);
  });

  it("shortens text longer than a table property holds", async () => {
    const created = record({ messageText: "m".repeat(100_000), error: { code: "invalid_request", message: "e".repeat(100_000) } });
    await store.create(created);
    const read = (await store.get(owner, created.runId))!.record;
    expect(read.messageText!.length).toBeLessThan(10_000);
    expect(read.messageText).toMatch(/…\[truncated\]$/);
    expect(read.error!.message).toMatch(/…\[truncated\]$/);
  });
});

describe("BlobResultStore and StorageRunQueue (Azurite)", () => {
  it("writes a result as <owner>/<runId>.json and reads it back; an unknown run, or another owner's, has none", async () => {
    const results = new BlobResultStore(storage.blobContainer(`results-${unique()}`));
    const other = createCaller("user", "alice").principalKey;
    const document = { runId: "r-1", plugin: "calculator", result: { value: 14, text: "grüße" }, durationMs: 3, completedAt: new Date().toISOString() };
    expect(await results.write(owner, document)).toBe(`${owner}/r-1.json`);
    expect(await results.read(owner, "r-1")).toEqual(document);
    expect(await results.read(owner, "r-2")).toBeUndefined();
    expect(await results.read(other, "r-1")).toBeUndefined();
    // Written again (a retried run), it is replaced.
    await results.write(owner, { ...document, result: 15 });
    expect((await results.read(owner, "r-1"))?.result).toBe(15);
    // The same run id under another owner is another blob.
    expect(await results.write(other, { ...document, result: 16 })).toBe(`${other}/r-1.json`);
    expect((await results.read(other, "r-1"))?.result).toBe(16);
    expect((await results.read(owner, "r-1"))?.result).toBe(15);
  });

  it("creates the queue on first use and sends the text as it is", async () => {
    const client = storage.queue(`runs-${unique()}`);
    await new StorageRunQueue(client).send("aGVsbG8=");
    const { peekedMessageItems } = await client.peekMessages();
    expect(peekedMessageItems.map((m) => m.messageText)).toEqual(["aGVsbG8="]);
  });

  it("answers storage_unavailable when storage cannot be reached", async () => {
    const port = await freePort();
    const down = createStorageClients(
      { kind: "connectionString", connectionString: azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }) },
      noCredential,
    );
    const failures = await Promise.all([
      failureOf(new TableRunStore(down.table("runsdown")).get(owner, "r")),
      failureOf(new BlobResultStore(down.blobContainer("down")).read(owner, "r")),
      failureOf(new StorageRunQueue(down.queue("down")).send("x")),
    ]);
    expect(failures.map((f) => f.code)).toEqual(["storage_unavailable", "storage_unavailable", "storage_unavailable"]);
  });
});
