import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { TableApprovalIndex } from "../../../src/approvals/table_approval_index.js";
import { createCaller } from "../../../src/auth/caller.js";
import { createStorageClients } from "../../../src/azure/storage_clients.js";
import { newRunRecord } from "../../../src/runs/run_record.js";
import { TableRunStore } from "../../../src/runs/table_run_store.js";

const noCredential = () => {
  throw new Error("no credential needed");
};
const storage = createStorageClients({ kind: "connectionString", connectionString: inject("storageConnectionString") }, noCredential);
const unique = () => randomUUID().replace(/-/g, "").slice(0, 16);
const alice = createCaller("user", "alice").principalKey;
const bob = createCaller("user", "bob").principalKey;

function entry(owner: string, runId = `r-${randomUUID()}`, { plugin = "shell", ttlMs = 60_000 } = {}) {
  const at = Date.now();
  return { runId, owner, plugin, requestedAt: new Date(at).toISOString(), expiresAt: new Date(at + ttlMs).toISOString() };
}

describe("TableApprovalIndex (Azurite)", () => {
  const table = storage.table(`runs${unique()}`);
  const index = new TableApprovalIndex(table);

  it("lists a request as pending and finds its requester by run id; a run id is one request's, whoever asks", async () => {
    const first = entry(alice);
    expect(await index.add(first)).toBe("added");
    expect(await index.ownerOf(first.runId)).toBe(alice);
    expect(await index.pending("shell")).toContainEqual(first);
    // Bob cannot take the run id of alice's request: approvers decide by run id alone.
    expect(await index.add({ ...entry(bob), runId: first.runId })).toBe("taken");
    expect(await index.ownerOf(first.runId)).toBe(alice);
    expect((await index.pending("shell")).filter((pending) => pending.runId === first.runId)).toEqual([first]);
    expect(await index.ownerOf(`missing-${randomUUID()}`)).toBeUndefined();
  });

  it("unlists a decided request but keeps its run id, and gives back the run id of one that was never recorded", async () => {
    const decided = entry(alice);
    const unrecorded = entry(bob);
    await index.add(decided);
    await index.add(unrecorded);
    await index.unlist(decided);
    await index.unlist(decided);
    expect((await index.pending("shell")).map((pending) => pending.runId)).not.toContain(decided.runId);
    expect(await index.ownerOf(decided.runId)).toBe(alice);
    await index.release(unrecorded);
    expect(await index.ownerOf(unrecorded.runId)).toBeUndefined();
    expect(await index.add(unrecorded)).toBe("added");
  });
});

describe("TableApprovalIndex (Azurite): the order of pending requests", () => {
  const index = new TableApprovalIndex(storage.table(`runs${unique()}`));

  it("lists a plugin's requests soonest to expire first, whatever their run ids, and none of another plugin's", async () => {
    // Run ids the requester chose to sort first; the requests themselves are the newest.
    const early = entry(alice, `zzz-${unique()}`, { ttlMs: 60_000 });
    const late = [entry(bob, `--${unique()}`, { ttlMs: 120_000 }), entry(bob, `-0-${unique()}`, { ttlMs: 180_000 })];
    const other = entry(bob, `-${unique()}`, { plugin: "echo" });
    for (const added of [...late, other, early]) expect(await index.add(added)).toBe("added");
    expect((await index.pending("shell")).map((pending) => pending.runId)).toEqual([early.runId, ...late.map((pending) => pending.runId)]);
    expect(await index.pending("echo")).toEqual([other]);
    expect(await index.pending("shel")).toEqual([]);
  });
});

describe("TableRunStore.update (Azurite): a Merge with the ETag read", () => {
  const store = new TableRunStore(storage.table(`runs${unique()}`));

  it("lets one of several writers of the same version win; the others get a conflict and change nothing", async () => {
    const at = new Date().toISOString();
    const approval = {
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
      input: { command: "ls" },
      decidedBy: undefined,
      decidedAt: undefined,
      reason: undefined,
    };
    const created = await store.create(
      newRunRecord(
        { owner: alice, runId: `r-${randomUUID()}`, plugin: "shell", state: "awaiting_approval", sessionId: "s1", source: "http", channel: "chat", approval },
        at,
      ),
    );
    if (created === "exists") throw new Error("the run exists already");
    const writers = ["a1", "a2", "a3", "a4", "a5", "a6"].map((who) =>
      store.update(created, { state: "approved", approval: { ...approval, decidedBy: who, decidedAt: at } }),
    );
    const outcomes = await Promise.all(writers);
    const won = outcomes.filter((outcome) => outcome !== "conflict");
    expect(won).toHaveLength(1);
    const read = await store.get(alice, created.record.runId);
    expect(read?.record).toEqual(won[0]!.record);
    expect(read?.record).toMatchObject({ state: "approved", channel: "chat", approval: { input: { command: "ls" } } });
    // The winner's ETag is the record's now; the one everybody read is stale.
    expect(read?.etag).toBe(won[0]!.etag);
    expect(await store.update(created, { state: "denied" })).toBe("conflict");
  });
});
