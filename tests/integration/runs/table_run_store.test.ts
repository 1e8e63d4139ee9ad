import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
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

function record(overrides: Partial<RunRecord> = {}): RunRecord {
  const at = new Date().toISOString();
  return { ...newRunRecord({ runId: `r-${randomUUID()}`, plugin: "echo", state: "queued", sessionId: undefined, source: "http" }, at), ...overrides };
}

describe("TableRunStore (Azurite)", () => {
  const store = new TableRunStore(storage.table(`runs${unique()}`));

  it("creates the table on first use, and reads back what it created, field for field", async () => {
    const created = record({ sessionId: "s-1", error: { code: "plugin_busy", message: "busy" }, messageText: "text", durationMs: 12, leaseUntil: new Date().toISOString() });
    const stored = await store.create(created);
    expect(stored).not.toBe("exists");
    const read = await store.get(created.runId);
    expect(read?.record).toEqual(created);
    expect(read?.etag).toEqual(expect.any(String));
    expect(await store.get(`missing-${randomUUID()}`)).toBeUndefined();
  });

  it("refuses to create a run that exists: the claim of a new run", async () => {
    const first = record();
    expect(await store.create(first)).not.toBe("exists");
    expect(await store.create({ ...first, plugin: "calculator" })).toBe("exists");
    expect((await store.get(first.runId))?.record.plugin).toBe("echo");
  });

  it("replaces only the version that was read (If-Match): of two writers with one ETag, one wins", async () => {
    const created = record();
    await store.create(created);
    const read = (await store.get(created.runId))!;
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
    expect((await store.get(created.runId))?.record.state).toBe("succeeded");
  });

  it("removes a record only at the version read, and a missing one quietly", async () => {
    const created = record();
    const stale = await store.create(created);
    if (stale === "exists") throw new Error("unexpected");
    const current = await store.replace({ ...created, state: "running" }, stale.etag);
    if (current === "conflict") throw new Error("unexpected");
    await store.remove(created.runId, stale.etag);
    expect(await store.get(created.runId)).toBeDefined();
    await store.remove(created.runId, current.etag);
    expect(await store.get(created.runId)).toBeUndefined();
    await store.remove(created.runId, current.etag);
    expect(await store.replace(created, current.etag)).toBe("conflict");
  });

  it("shortens text longer than a table property holds", async () => {
    const created = record({ messageText: "m".repeat(100_000), error: { code: "invalid_request", message: "e".repeat(100_000) } });
    await store.create(created);
    const read = (await store.get(created.runId))!.record;
    expect(read.messageText!.length).toBeLessThan(10_000);
    expect(read.messageText).toMatch(/…\[truncated\]$/);
    expect(read.error!.message).toMatch(/…\[truncated\]$/);
  });
});

describe("BlobResultStore and StorageRunQueue (Azurite)", () => {
  it("writes a result as <runId>.json and reads it back; an unknown run has none", async () => {
    const results = new BlobResultStore(storage.blobContainer(`results-${unique()}`));
    const document = { runId: "r-1", plugin: "calculator", result: { value: 14, text: "grüße" }, durationMs: 3, completedAt: new Date().toISOString() };
    expect(await results.write(document)).toBe("r-1.json");
    expect(await results.read("r-1")).toEqual(document);
    expect(await results.read("r-2")).toBeUndefined();
    // Written again (a retried run), it is replaced.
    await results.write({ ...document, result: 15 });
    expect((await results.read("r-1"))?.result).toBe(15);
  });

  it("creates the queue on first use and sends the text as it is", async () => {
    const client = storage.queue(`runs-${unique()}`);
    await new StorageRunQueue(client).send("aGVsbG8=");
    const { peekedMessageItems } = await client.peekMessages();
    expect(peekedMessageItems.map((m) => m.messageText)).toEqual(["aGVsbG8="]);
  });

  it("answers storage_unavailable when storage cannot be reached", async () => {
    const port = await freePort();
    const down = createStorageClients({ kind: "connectionString", connectionString: azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }) }, noCredential);
    const failures = await Promise.all([
      failureOf(new TableRunStore(down.table("runsdown")).get("r")),
      failureOf(new BlobResultStore(down.blobContainer("down")).read("r")),
      failureOf(new StorageRunQueue(down.queue("down")).send("x")),
    ]);
    expect(failures.map((f) => f.code)).toEqual(["storage_unavailable", "storage_unavailable", "storage_unavailable"]);
  });
});
