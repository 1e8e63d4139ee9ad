import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createCaller, localCaller, type Caller } from "../../../src/auth/caller.js";
import { azuriteConnectionString } from "../../../src/azure/connection_string.js";
import { createStorageClients, type StorageClients } from "../../../src/azure/storage_clients.js";
import { AppError } from "../../../src/errors/app_error.js";
import type { ErrorCode } from "../../../src/errors/error_codes.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { BasePlugin, type PluginContext, type PluginEnvironment } from "../../../src/plugins/plugin.js";
import { BlobResultStore } from "../../../src/runs/blob_result_store.js";
import { MalformedRunMessageError, RunInProgressError, RunProcessor, type Delivery } from "../../../src/runs/run_processor.js";
import { runMessageDigest } from "../../../src/runs/run_message.js";
import { newRunRecord } from "../../../src/runs/run_record.js";
import { TableRunStore } from "../../../src/runs/table_run_store.js";
import type { Services } from "../../../src/services.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { integrationConfig, integrationServices } from "../../support/test_services.js";
import { testAnnotations } from "../../support/plugin_context.js";

/** How often each key was run, across every delivery in this file. */
const executions = new Map<string, number>();

const countingInput = z.strictObject({ key: z.string(), delayMs: z.number().int().min(0).max(2000).default(0) });

/** Counts its runs by key; waits a while if asked, so that deliveries overlap. */
class CountingPlugin extends BasePlugin<z.infer<typeof countingInput>, { key: string; run: number }> {
  readonly name = "counting";
  readonly title = "Test plugin";
  readonly description = "Counts its runs.";
  readonly annotations = testAnnotations;
  readonly inputSchema = countingInput;
  constructor(_environment: PluginEnvironment) {
    super();
  }
  async execute(data: z.infer<typeof countingInput>) {
    const run = (executions.get(data.key) ?? 0) + 1;
    executions.set(data.key, run);
    await new Promise((resolve) => setTimeout(resolve, data.delayMs));
    return { key: data.key, run };
  }
}

const failingInput = z.strictObject({ key: z.string(), code: z.string() });

/** Counts its runs by key and fails each with the given error code. */
class FailingPlugin extends BasePlugin<z.infer<typeof failingInput>, never> {
  readonly name = "failing";
  readonly title = "Test plugin";
  readonly description = "Always fails.";
  readonly annotations = testAnnotations;
  readonly inputSchema = failingInput;
  constructor(_environment: PluginEnvironment) {
    super();
  }
  async execute(data: z.infer<typeof failingInput>): Promise<never> {
    executions.set(data.key, (executions.get(data.key) ?? 0) + 1);
    throw new AppError(data.code as ErrorCode, `failing with ${data.code}`);
  }
}

/** Tells who it ran as and on which channel. */
class WhoamiPlugin extends BasePlugin<{ tag?: string | undefined }, { principalKey: string; principalId: string; roles: readonly string[]; channel: string }> {
  readonly name = "whoami";
  readonly title = "Test plugin";
  readonly description = "Tells who runs it.";
  readonly annotations = testAnnotations;
  readonly inputSchema = z.strictObject({ tag: z.string().optional() });
  constructor(_environment: PluginEnvironment) {
    super();
  }
  async execute(_data: { tag?: string | undefined }, context: PluginContext) {
    const { principalKey, principalId, roles } = context.caller;
    return { principalKey, principalId, roles, channel: context.channel };
  }
}

const maxDequeueCount = 3;
let services: Services;

beforeAll(() => {
  services = integrationServices({
    config: integrationConfig({ QUEUE_MAX_DEQUEUE_COUNT: String(maxDequeueCount) }),
    plugins: [CountingPlugin, FailingPlugin, WhoamiPlugin],
  });
});

afterAll(async () => {
  await services.close();
});

const delivery = (dequeueCount = 1, messageId: string = randomUUID()): Delivery => ({ messageId, dequeueCount });

/** The message POST /api/plugins/execute with async put on this file's queue for the run, decoded as the host hands it over. */
async function queuedMessage(runId: string): Promise<Record<string, unknown>> {
  const { peekedMessageItems } = await (await services.storageClients!()).queue(services.config.runs.queueName).peekMessages({ numberOfMessages: 32 });
  const messages = peekedMessageItems.map((item) => JSON.parse(Buffer.from(item.messageText, "base64").toString("utf8")) as Record<string, unknown>);
  const found = messages.find((message) => message.runId === runId);
  if (!found) throw new Error(`no message for run ${runId} on the queue`);
  return found;
}

/** A caller's run as GET /api/runs/{runId} shows it (with AUTH_MODE=none, the test's services' mode). */
const statusOf = (runId: string, caller: Caller = localCaller) => services.runs.status(caller, runId);

describe("RunProcessor: one run per run id", () => {
  it("runs a run id delivered twice at the same time once; the other delivery is told to come back", async () => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "counting", data: { key, delayMs: 300 } };
    const outcomes = await Promise.allSettled([services.runProcessor.process(message, delivery()), services.runProcessor.process(message, delivery())]);
    expect(executions.get(key)).toBe(1);
    expect(outcomes.filter((o) => o.status === "fulfilled").map((o) => (o as PromiseFulfilledResult<unknown>).value)).toEqual([
      { kind: "succeeded", runId: message.runId },
    ]);
    const rejected = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(RunInProgressError);

    // The message that came back later finds the run finished, and does not run it.
    expect(await services.runProcessor.process(message, delivery(2))).toEqual({ kind: "already_finished", runId: message.runId, state: "succeeded" });
    expect(executions.get(key)).toBe(1);
    expect(await statusOf(message.runId)).toMatchObject({ state: "succeeded", attempts: 1, result: { key, run: 1 } });
  });

  it("runs it once among many simultaneous deliveries", async () => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "counting", data: { key, delayMs: 200 } };
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => services.runProcessor.process(message, delivery())));
    expect(executions.get(key)).toBe(1);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
  });

  it("claims a run queued over HTTP and runs it with the message's input", async () => {
    const key = randomUUID();
    const queued = await services.runs.submit(localCaller, { plugin: "counting", data: { key }, sessionId: undefined, runId: undefined });
    expect(await statusOf(queued.runId)).toMatchObject({ state: "queued", attempts: 0, plugin: "counting" });
    const message = await queuedMessage(queued.runId);
    expect(message).toEqual({ runId: queued.runId, owner: localCaller.principalKey, plugin: "counting", data: { key } });
    await services.runProcessor.process(message, delivery());
    expect(await statusOf(queued.runId)).toMatchObject({ state: "succeeded", attempts: 1, result: { key, run: 1 } });
  });

  it("runs a queued run once when its deliveries claim it at the same time (If-Match on the queued record)", async () => {
    const key = randomUUID();
    const queued = await services.runs.submit(localCaller, { plugin: "counting", data: { key, delayMs: 200 }, sessionId: undefined, runId: undefined });
    const message = await queuedMessage(queued.runId);
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => services.runProcessor.process(message, delivery())));
    expect(executions.get(key)).toBe(1);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await statusOf(queued.runId)).toMatchObject({ state: "succeeded", attempts: 1 });
  });
});

describe("RunProcessor: whose run it is", () => {
  const alice = createCaller("user", "alice", ["reader"]);

  it("runs a message that no caller submitted as the queue caller, on the queue channel", async () => {
    const runId = `r-${randomUUID()}`;
    expect(await services.runProcessor.process({ runId, plugin: "whoami", data: {} }, delivery())).toEqual({ kind: "succeeded", runId });
    // With AUTH_MODE=none the queue caller is the one local caller.
    expect(await statusOf(runId)).toMatchObject({
      state: "succeeded",
      result: { principalKey: localCaller.principalKey, principalId: localCaller.principalId, roles: [], channel: "queue" },
    });
  });

  it("runs an HTTP run as the caller that submitted it, on the execute channel, and only that caller reads it", async () => {
    const queued = await services.runs.submit(alice, { plugin: "whoami", data: { tag: "mine" }, sessionId: undefined, runId: undefined });
    const message = await queuedMessage(queued.runId);
    expect(message).toMatchObject({ owner: alice.principalKey });
    expect(await services.runProcessor.process(message, delivery())).toEqual({ kind: "succeeded", runId: queued.runId });
    expect(await statusOf(queued.runId, alice)).toMatchObject({
      state: "succeeded",
      attempts: 1,
      result: { principalKey: alice.principalKey, principalId: "alice", roles: ["reader"], channel: "execute" },
    });
    // Another principal's run answers as an unknown one.
    expect((await failureOf(statusOf(queued.runId))).code).toBe("run_not_found");
    expect((await failureOf(statusOf(queued.runId, createCaller("user", "bob")))).code).toBe("run_not_found");
    // The result is in the owner's folder of the results container.
    const results = new BlobResultStore((await services.storageClients!()).blobContainer(services.config.runs.resultsContainer));
    expect(await results.read(alice.principalKey, queued.runId)).toMatchObject({ runId: queued.runId, plugin: "whoami" });
    expect(await results.read(localCaller.principalKey, queued.runId)).toBeUndefined();
  });

  it("rejects a message with an owner that accepted no such run, and records it failed under the queue caller without running it", async () => {
    const key = randomUUID();
    const runId = `r-${key}`;
    const message = { runId, owner: alice.principalKey, plugin: "counting", data: { key } };
    const failure = await services.runProcessor.process(message, delivery()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MalformedRunMessageError);
    expect(failure).toMatchObject({ runId, error: { code: "invalid_request", message: expect.stringContaining("accepted no such run") } });
    expect(executions.get(key)).toBeUndefined();
    // Recorded under the queue caller (the local caller with AUTH_MODE=none), not under the owner it named.
    expect(await statusOf(runId)).toMatchObject({ state: "failed", plugin: "counting", error: { code: "invalid_request" } });
    expect((await failureOf(statusOf(runId, alice))).code).toBe("run_not_found");
    // Every delivery is rejected again, so that it ends in the poison queue; it never runs.
    await expect(services.runProcessor.process(message, delivery(2))).rejects.toBeInstanceOf(MalformedRunMessageError);
    expect(executions.get(key)).toBeUndefined();
  });

  it("rejects a message that names an accepted run's owner but not the message that was accepted", async () => {
    const key = randomUUID();
    const queued = await services.runs.submit(alice, { plugin: "counting", data: { key }, sessionId: undefined, runId: undefined });
    const accepted = await queuedMessage(queued.runId);
    const altered = [
      { ...accepted, data: { key, delayMs: 1 } },
      { ...accepted, sessionId: "s-borrowed" },
      { ...accepted, plugin: "whoami", data: {} },
    ];
    for (const message of altered) {
      await expect(services.runProcessor.process(message, delivery(1, randomUUID())), JSON.stringify(message)).rejects.toBeInstanceOf(MalformedRunMessageError);
    }
    expect(executions.get(key)).toBeUndefined();
    expect(await statusOf(queued.runId, alice)).toMatchObject({ state: "queued", attempts: 0, plugin: "counting" });
    // The accepted message itself still runs, once.
    expect(await services.runProcessor.process(accepted, delivery())).toEqual({ kind: "succeeded", runId: queued.runId });
    expect(executions.get(key)).toBe(1);
  });

  it("does not let a message without an owner take over an accepted HTTP run of the same principal (AUTH_MODE=none)", async () => {
    const key = randomUUID();
    const queued = await services.runs.submit(localCaller, { plugin: "counting", data: { key }, sessionId: undefined, runId: undefined });
    const accepted = await queuedMessage(queued.runId);
    const { owner: _owner, ...withoutOwner } = accepted;
    const injected = { ...withoutOwner, data: { key, delayMs: 2 } };
    const failure = await services.runProcessor.process(injected, delivery()).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(MalformedRunMessageError);
    expect(failure).toMatchObject({ error: { message: expect.stringContaining("accepted over HTTP") } });
    expect(executions.get(key)).toBeUndefined();
    expect(await statusOf(queued.runId)).toMatchObject({ state: "queued", attempts: 0 });
    expect(await services.runProcessor.process(accepted, delivery())).toEqual({ kind: "succeeded", runId: queued.runId });
    expect(executions.get(key)).toBe(1);
  });

  it("rejects a message whose owner has a run of that id that did not come over HTTP", async () => {
    const store = new TableRunStore((await services.storageClients!()).table(services.config.runs.tableName));
    const key = randomUUID();
    const runId = `r-${key}`;
    const data = { key };
    // A queue record of the owner's with the digest of the message: still not an accepted HTTP run.
    const at = new Date().toISOString();
    await store.create({
      ...newRunRecord({ owner: alice.principalKey, runId, plugin: "counting", state: "queued", sessionId: undefined, source: "queue" }, at),
      principalId: "alice",
      roles: ["reader"],
      messageDigest: runMessageDigest({ plugin: "counting", data, sessionId: undefined }),
    });
    await expect(services.runProcessor.process({ runId, owner: alice.principalKey, plugin: "counting", data }, delivery())).rejects.toBeInstanceOf(
      MalformedRunMessageError,
    );
    expect(executions.get(key)).toBeUndefined();
    expect((await store.get(alice.principalKey, runId))?.record).toMatchObject({ state: "queued", attempts: 0 });
  });
});

describe("RunProcessor: failures", () => {
  it(`throws a retryable failure, and records it failed on delivery ${maxDequeueCount} (the last) before it throws again`, async () => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "failing", data: { key, code: "upstream_unavailable" } };
    for (let count = 1; count < maxDequeueCount; count++) {
      const failure = await failureOf(services.runProcessor.process(message, delivery(count)));
      expect(failure.code).toBe("upstream_unavailable");
      expect(await statusOf(message.runId)).toMatchObject({ state: "queued", attempts: count, lastError: { code: "upstream_unavailable" } });
    }
    expect((await failureOf(services.runProcessor.process(message, delivery(maxDequeueCount)))).code).toBe("upstream_unavailable");
    const run = await statusOf(message.runId);
    expect(run).toMatchObject({
      state: "failed",
      attempts: maxDequeueCount,
      error: { code: "upstream_unavailable", message: `failing with upstream_unavailable (gave up after ${maxDequeueCount} deliveries)` },
    });
    expect(run).not.toHaveProperty("lastError");
    expect(executions.get(key)).toBe(maxDequeueCount);
  });

  it.each(["invalid_input", "plugin_failed", "plugin_disabled"])("records %s as failed on the first delivery and returns", async (code) => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "failing", data: { key, code } };
    expect(await services.runProcessor.process(message, delivery())).toEqual({
      kind: "failed",
      runId: message.runId,
      error: { code, message: `failing with ${code}` },
    });
    expect(await services.runProcessor.process(message, delivery(2))).toMatchObject({ kind: "already_finished", state: "failed" });
    expect(executions.get(key)).toBe(1);
  });

  it("records input that breaks the plugin's schema as failed invalid_input, without running it", async () => {
    const runId = `r-${randomUUID()}`;
    expect(await services.runProcessor.process({ runId, plugin: "counting", data: { nope: 1 } }, delivery())).toMatchObject({
      kind: "failed",
      error: { code: "invalid_input" },
    });
  });

  it("records a malformed message once under its message id, and throws on every delivery so that it ends in the poison queue", async () => {
    const messageId = randomUUID();
    const first = await services.runProcessor.process("{broken json", delivery(1, messageId)).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MalformedRunMessageError);
    expect(first).toMatchObject({ runId: messageId, error: { code: "invalid_request" } });
    await expect(services.runProcessor.process("{broken json", delivery(2, messageId))).rejects.toMatchObject({ runId: messageId });
    expect(await statusOf(messageId)).toMatchObject({ state: "failed", plugin: null, messageText: "{broken json", attempts: 0 });
  });

  it("does not overwrite another run with a malformed message that reuses its run id", async () => {
    const key = randomUUID();
    const runId = `r-${key}`;
    await services.runProcessor.process({ runId, plugin: "counting", data: { key } }, delivery());
    const messageId = randomUUID();
    await expect(services.runProcessor.process({ runId, plugin: "counting", sessionId: "not valid!" }, delivery(1, messageId))).rejects.toMatchObject({
      runId: messageId,
    });
    expect(await statusOf(runId)).toMatchObject({ state: "succeeded" });
    expect(await statusOf(messageId)).toMatchObject({ state: "failed", plugin: "counting", error: { message: expect.stringContaining("sessionId") } });
  });
});

describe("RunProcessor: claims that run out, and storage that is down", () => {
  let clients: StorageClients;
  beforeAll(async () => {
    clients = await services.storageClients!();
  });
  const storage = () => clients;

  /** A processor on this file's runs table and results container whose clock the test moves (a claim's lease is 60 s). */
  function onClock() {
    const clock = { now: Date.now() };
    const store = new TableRunStore(storage().table(services.config.runs.tableName));
    const processor = new RunProcessor(
      {
        store,
        results: new BlobResultStore(storage().blobContainer(services.config.runs.resultsContainer)),
        runner: services.runner,
        logger: silentLogger,
        queueCaller: localCaller,
        leaseMs: () => 60_000,
        now: () => clock.now,
      },
      { maxDequeueCount },
    );
    return { store, processor, clock };
  }

  it("takes over a run whose claim ran out (the delivery that held it died), and leaves one whose claim holds", async () => {
    const { store, processor, clock } = onClock();
    const now = clock.now;
    const key = randomUUID();
    const runId = `r-${key}`;
    const at = new Date(now).toISOString();
    const claimed = newRunRecord(
      { owner: localCaller.principalKey, runId, plugin: "counting", state: "running", sessionId: undefined, source: "queue", channel: "queue" },
      at,
    );
    await store.create({ ...claimed, attempts: 1, leaseUntil: new Date(now + 60_000).toISOString() });
    const message = { runId, plugin: "counting", data: { key } };
    await expect(processor.process(message, delivery(2))).rejects.toBeInstanceOf(RunInProgressError);
    expect(executions.get(key)).toBeUndefined();

    clock.now += 61_000;
    expect(await processor.process(message, delivery(3))).toEqual({ kind: "succeeded", runId });
    expect(executions.get(key)).toBe(1);
    expect(await statusOf(runId)).toMatchObject({ state: "succeeded", attempts: 2 });
  });

  it("ends an approved run whose claim ran out failed, without running it again: an approved run starts at most once", async () => {
    const { store, processor, clock } = onClock();
    const now = clock.now;
    const key = randomUUID();
    const runId = `r-${key}`;
    const message = { runId, owner: localCaller.principalKey, plugin: "counting", data: { key } };
    const at = new Date(now).toISOString();
    const approval = { expiresAt: new Date(now + 600_000).toISOString(), input: { key }, decidedBy: "admin", decidedAt: at, reason: undefined };
    const claimed = newRunRecord(
      {
        owner: localCaller.principalKey,
        runId,
        plugin: "counting",
        state: "running",
        sessionId: undefined,
        source: "http",
        channel: "execute",
        messageDigest: runMessageDigest({ ...message, sessionId: undefined }),
        approval,
      },
      at,
    );
    await store.create({ ...claimed, attempts: 1, leaseUntil: new Date(now + 60_000).toISOString() });
    await expect(processor.process(message, delivery(2))).rejects.toBeInstanceOf(RunInProgressError);

    clock.now += 61_000;
    expect(await processor.process(message, delivery(3))).toEqual({ kind: "already_finished", runId, state: "failed" });
    expect(executions.get(key)).toBeUndefined();
    const run = await statusOf(runId);
    expect(run).toMatchObject({ state: "failed", attempts: 1, error: { code: "internal_error" } });
    expect(run.error?.message).toMatch(/interrupted .*an approved run is not started again/);
  });

  it("retries a run whose result cannot be stored (storage_unavailable): the plugin ran, the run is queued again", async () => {
    const port = await freePort();
    const down = createStorageClients(
      { kind: "connectionString", connectionString: azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }) },
      () => {
        throw new Error("no credential needed");
      },
    );
    const processor = new RunProcessor(
      {
        store: new TableRunStore(storage().table(services.config.runs.tableName)),
        results: new BlobResultStore(down.blobContainer("results")),
        runner: services.runner,
        logger: silentLogger,
        queueCaller: localCaller,
        leaseMs: () => 60_000,
      },
      { maxDequeueCount },
    );
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "counting", data: { key } };
    expect((await failureOf(processor.process(message, delivery(1)))).code).toBe("storage_unavailable");
    expect(executions.get(key)).toBe(1);
    expect(await statusOf(message.runId)).toMatchObject({ state: "queued", attempts: 1, lastError: { code: "storage_unavailable" } });
    // Storage is back: the next delivery runs it again (delivery is at least once) and stores the result.
    expect(await services.runProcessor.process(message, delivery(2))).toMatchObject({ kind: "succeeded" });
    expect(await statusOf(message.runId)).toMatchObject({ state: "succeeded", attempts: 2, result: { key, run: 2 } });
  });
});
