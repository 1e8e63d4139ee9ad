import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { azuriteConnectionString } from "../../../src/azure/connection_string.js";
import { createStorageClients } from "../../../src/azure/storage_clients.js";
import { AppError } from "../../../src/errors/app_error.js";
import type { ErrorCode } from "../../../src/errors/error_codes.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { BasePlugin, type PluginEnvironment } from "../../../src/plugins/plugin.js";
import { BlobResultStore } from "../../../src/runs/blob_result_store.js";
import { MalformedRunMessageError, RunInProgressError, RunProcessor, type Delivery } from "../../../src/runs/run_processor.js";
import { TableRunStore } from "../../../src/runs/table_run_store.js";
import type { Services } from "../../../src/services.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { integrationConfig, integrationServices } from "../../support/test_services.js";

/** How often each key was run, across every delivery in this file. */
const executions = new Map<string, number>();

const countingInput = z.strictObject({ key: z.string(), delayMs: z.number().int().min(0).max(2000).default(0) });

/** Counts its runs by key; waits a while if asked, so that deliveries overlap. */
class CountingPlugin extends BasePlugin<z.infer<typeof countingInput>, { key: string; run: number }> {
  readonly name = "counting";
  readonly description = "Counts its runs.";
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
  readonly description = "Always fails.";
  readonly inputSchema = failingInput;
  constructor(_environment: PluginEnvironment) {
    super();
  }
  async execute(data: z.infer<typeof failingInput>): Promise<never> {
    executions.set(data.key, (executions.get(data.key) ?? 0) + 1);
    throw new AppError(data.code as ErrorCode, `failing with ${data.code}`);
  }
}

const maxDequeueCount = 3;
let services: Services;

beforeAll(() => {
  services = integrationServices({
    config: integrationConfig({ QUEUE_MAX_DEQUEUE_COUNT: String(maxDequeueCount) }),
    plugins: [CountingPlugin, FailingPlugin],
  });
});

afterAll(async () => {
  await services.close();
});

const delivery = (dequeueCount = 1, messageId: string = randomUUID()): Delivery => ({ messageId, dequeueCount });

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
    expect(await services.runs.status(message.runId)).toMatchObject({ state: "succeeded", attempts: 1, result: { key, run: 1 } });
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
    const queued = await services.runs.submit({ plugin: "counting", data: { key }, sessionId: undefined, runId: undefined });
    expect(await services.runs.status(queued.runId)).toMatchObject({ state: "queued", attempts: 0, plugin: "counting" });
    await services.runProcessor.process({ runId: queued.runId, plugin: "counting", data: { key } }, delivery());
    expect(await services.runs.status(queued.runId)).toMatchObject({ state: "succeeded", attempts: 1, result: { key, run: 1 } });
  });

  it("runs a queued run once when its deliveries claim it at the same time (If-Match on the queued record)", async () => {
    const key = randomUUID();
    const queued = await services.runs.submit({ plugin: "counting", data: { key, delayMs: 200 }, sessionId: undefined, runId: undefined });
    const message = { runId: queued.runId, plugin: "counting", data: { key, delayMs: 200 } };
    const outcomes = await Promise.allSettled(Array.from({ length: 4 }, () => services.runProcessor.process(message, delivery())));
    expect(executions.get(key)).toBe(1);
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    expect(await services.runs.status(queued.runId)).toMatchObject({ state: "succeeded", attempts: 1 });
  });
});

describe("RunProcessor: failures", () => {
  it(`throws a retryable failure, and records it failed on delivery ${maxDequeueCount} (the last) before it throws again`, async () => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "failing", data: { key, code: "upstream_unavailable" } };
    for (let count = 1; count < maxDequeueCount; count++) {
      const failure = await failureOf(services.runProcessor.process(message, delivery(count)));
      expect(failure.code).toBe("upstream_unavailable");
      expect(await services.runs.status(message.runId)).toMatchObject({ state: "queued", attempts: count, lastError: { code: "upstream_unavailable" } });
    }
    expect((await failureOf(services.runProcessor.process(message, delivery(maxDequeueCount)))).code).toBe("upstream_unavailable");
    const run = await services.runs.status(message.runId);
    expect(run).toMatchObject({ state: "failed", attempts: maxDequeueCount, error: { code: "upstream_unavailable", message: `failing with upstream_unavailable (gave up after ${maxDequeueCount} deliveries)` } });
    expect(run).not.toHaveProperty("lastError");
    expect(executions.get(key)).toBe(maxDequeueCount);
  });

  it.each(["invalid_input", "plugin_failed", "plugin_disabled"])("records %s as failed on the first delivery and returns", async (code) => {
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "failing", data: { key, code } };
    expect(await services.runProcessor.process(message, delivery())).toEqual({ kind: "failed", runId: message.runId, error: { code, message: `failing with ${code}` } });
    expect(await services.runProcessor.process(message, delivery(2))).toMatchObject({ kind: "already_finished", state: "failed" });
    expect(executions.get(key)).toBe(1);
  });

  it("records input that breaks the plugin's schema as failed invalid_input, without running it", async () => {
    const runId = `r-${randomUUID()}`;
    expect(await services.runProcessor.process({ runId, plugin: "counting", data: { nope: 1 } }, delivery())).toMatchObject({ kind: "failed", error: { code: "invalid_input" } });
  });

  it("records a malformed message once under its message id, and throws on every delivery so that it ends in the poison queue", async () => {
    const messageId = randomUUID();
    const first = await services.runProcessor.process("{broken json", delivery(1, messageId)).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(MalformedRunMessageError);
    expect(first).toMatchObject({ runId: messageId, error: { code: "invalid_request" } });
    await expect(services.runProcessor.process("{broken json", delivery(2, messageId))).rejects.toMatchObject({ runId: messageId });
    expect(await services.runs.status(messageId)).toMatchObject({ state: "failed", plugin: null, messageText: "{broken json", attempts: 0 });
  });

  it("does not overwrite another run with a malformed message that reuses its run id", async () => {
    const key = randomUUID();
    const runId = `r-${key}`;
    await services.runProcessor.process({ runId, plugin: "counting", data: { key } }, delivery());
    const messageId = randomUUID();
    await expect(services.runProcessor.process({ runId, plugin: "counting", sessionId: "not valid!" }, delivery(1, messageId))).rejects.toMatchObject({
      runId: messageId,
    });
    expect(await services.runs.status(runId)).toMatchObject({ state: "succeeded" });
    expect(await services.runs.status(messageId)).toMatchObject({ state: "failed", plugin: "counting", error: { message: expect.stringContaining("sessionId") } });
  });
});

describe("RunProcessor: claims that run out, and storage that is down", () => {
  const storage = () => services.storage!;

  it("takes over a run whose claim ran out (the delivery that held it died), and leaves one whose claim holds", async () => {
    const store = new TableRunStore(storage().table(services.config.runs.tableName));
    let now = Date.now();
    const processor = new RunProcessor(
      { store, results: new BlobResultStore(storage().blobContainer(services.config.runs.resultsContainer)), execution: services.execution, logger: silentLogger, leaseMs: () => 60_000, now: () => now },
      { maxDequeueCount },
    );
    const key = randomUUID();
    const runId = `r-${key}`;
    const at = new Date(now).toISOString();
    await store.create({
      runId, plugin: "counting", state: "running", sessionId: undefined, source: "queue", createdAt: at, updatedAt: at, attempts: 1,
      leaseUntil: new Date(now + 60_000).toISOString(), durationMs: undefined, resultBlob: undefined, error: undefined, messageText: undefined,
    });
    const message = { runId, plugin: "counting", data: { key } };
    await expect(processor.process(message, delivery(2))).rejects.toBeInstanceOf(RunInProgressError);
    expect(executions.get(key)).toBeUndefined();

    now += 61_000;
    expect(await processor.process(message, delivery(3))).toEqual({ kind: "succeeded", runId });
    expect(executions.get(key)).toBe(1);
    expect(await services.runs.status(runId)).toMatchObject({ state: "succeeded", attempts: 2 });
  });

  it("retries a run whose result cannot be stored (storage_unavailable): the plugin ran, the run is queued again", async () => {
    const port = await freePort();
    const down = createStorageClients({ kind: "connectionString", connectionString: azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }) }, () => {
      throw new Error("no credential needed");
    });
    const processor = new RunProcessor(
      {
        store: new TableRunStore(storage().table(services.config.runs.tableName)),
        results: new BlobResultStore(down.blobContainer("results")),
        execution: services.execution,
        logger: silentLogger,
        leaseMs: () => 60_000,
      },
      { maxDequeueCount },
    );
    const key = randomUUID();
    const message = { runId: `r-${key}`, plugin: "counting", data: { key } };
    expect((await failureOf(processor.process(message, delivery(1)))).code).toBe("storage_unavailable");
    expect(executions.get(key)).toBe(1);
    expect(await services.runs.status(message.runId)).toMatchObject({ state: "queued", attempts: 1, lastError: { code: "storage_unavailable" } });
    // Storage is back: the next delivery runs it again (delivery is at least once) and stores the result.
    expect(await services.runProcessor.process(message, delivery(2))).toMatchObject({ kind: "succeeded" });
    expect(await services.runs.status(message.runId)).toMatchObject({ state: "succeeded", attempts: 2, result: { key, run: 2 } });
  });
});
