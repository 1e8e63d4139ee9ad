import { randomUUID } from "node:crypto";
import type { QueueClient } from "@azure/storage-queue";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import { localCaller } from "../../src/auth/caller.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import { sessionRef } from "../../src/memory/session_ref.js";
import type { Services } from "../../src/services.js";
import { HuggingFaceStandIn, replies } from "../support/hugging_face_stand_in.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi } from "../support/api_client.js";

const maxDequeueCount = 3;

let services: Services;
let host: LocalHost;
let queues: QueueHost;
let huggingFace: HuggingFaceStandIn;
let queue: QueueClient;
let poison: QueueClient;

beforeAll(async () => {
  // Hugging Face that always answers 500, without retries of its own: a run that keeps failing with a retryable error.
  huggingFace = await HuggingFaceStandIn.start();
  huggingFace.answerEveryRequestWith(replies.serverError());
  const config = integrationConfig({
    QUEUE_MAX_DEQUEUE_COUNT: String(maxDequeueCount),
    QUEUE_POLL_INTERVAL_MS: "50",
    HF_TOKEN: "hf_stand_in_token",
    HF_ENDPOINT: huggingFace.url,
    HF_MAX_RETRIES: "0",
  });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  queues = await startQueueHost({ functions: queueFunctions, services, retryDelaySeconds: 1 });
  queue = (await services.storageClients!()).queue(config.runs.queueName);
  poison = (await services.storageClients!()).queue(config.runs.poisonQueueName);
  await queue.createIfNotExists();
});

afterAll(async () => {
  await queues?.stop();
  await host?.close();
  await services?.close();
  await huggingFace?.close();
});

const call = (method: string, path: string, body?: unknown) => callApi(host.url, method, path, { body });

function expectError(result: { status: number; body: any }, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.body).toMatchObject({ status: "error", error: { code, message: expect.any(String) } });
}

/** Polls GET /api/runs/{runId} until the run is finished. */
async function finishedRun(runId: string, timeoutMs = 15_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = await call("GET", `/api/runs/${runId}`);
    if (run.status === 200 && (run.body.state === "succeeded" || run.body.state === "failed")) return run.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not finish in time: ${run.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const base64Json = (value: unknown) => Buffer.from(JSON.stringify(value), "utf8").toString("base64");

/** Messages waiting in a queue, visible or not (Azure counts both). */
async function messagesIn(client: QueueClient): Promise<number> {
  return (await client.getProperties()).approximateMessagesCount ?? 0;
}

/** The texts of the messages in the poison queue (which the host creates on first use). */
async function poisonTexts(): Promise<string[]> {
  if (!(await poison.exists())) return [];
  const { peekedMessageItems } = await poison.peekMessages({ numberOfMessages: 32 });
  return peekedMessageItems.map((m) => m.messageText);
}

/** A run's result blob: `<owner>/<runId>.json`; every caller of AUTH_MODE=none, and the queue's, is the local principal. */
async function readBlob(runId: string): Promise<unknown> {
  const name = `${localCaller.principalKey}/${runId}.json`;
  const buffer = await (await services.storageClients!()).blobContainer(services.config.runs.resultsContainer).getBlockBlobClient(name).downloadToBuffer();
  return JSON.parse(buffer.toString("utf8"));
}

describe("POST /api/plugins/execute with async", () => {
  it("answers 202 with a Location, runs the plugin from the queue, and the run reports the same result as a synchronous run", async () => {
    const accepted = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+3*4" }, async: true });
    expect(accepted.status).toBe(202);
    const runId = accepted.body.runId as string;
    expect(accepted.body).toEqual({
      status: "queued",
      runId: expect.stringMatching(/^[A-Za-z0-9_-]{1,128}$/),
      plugin: "calculator",
      location: `/api/runs/${runId}`,
    });
    expect(accepted.headers.get("location")).toBe(`/api/runs/${runId}`);

    const run = await finishedRun(runId);
    const sync = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+3*4" } });
    expect(run).toMatchObject({ runId, plugin: "calculator", state: "succeeded", result: sync.body.result, attempts: 1, durationMs: expect.any(Number) });
    expect(run.result).toBe(14);
    expect(Date.parse(run.updatedAt)).toBeGreaterThanOrEqual(Date.parse(run.createdAt));
    expect(run).not.toHaveProperty("error");
    expect(await readBlob(runId)).toMatchObject({ runId, plugin: "calculator", result: 14 });
  });

  it("reports a queued run before the poller takes it: state queued, no result yet", async () => {
    // A run id of the caller's own, read back at once: the record exists before the 202 is sent.
    const runId = `queued-${randomUUID()}`;
    const accepted = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "hi" }, async: true, runId });
    expect(accepted.status).toBe(202);
    expect(accepted.body.runId).toBe(runId);
    const early = await call("GET", `/api/runs/${runId}`);
    expect(early.status).toBe(200);
    expect(["queued", "running", "succeeded"]).toContain(early.body.state);
    expect(early.headers.get("cache-control")).toBe("no-store");
    expect((await finishedRun(runId)).result).toBe("hi");
  });

  it("records a run with a sessionId in that session's audit log", async () => {
    const sessionId = `async-${randomUUID()}`;
    const accepted = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "6*7" }, sessionId, async: true });
    expect(accepted.status).toBe(202);
    const run = await finishedRun(accepted.body.runId);
    expect(run).toMatchObject({ state: "succeeded", result: 42, sessionId });
    const audit = await call("GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries).toMatchObject([
      { type: "plugin_run", plugin: "calculator", runId: accepted.body.runId, input: { expression: "6*7" }, result: 42, outcome: "success" },
    ]);
  });

  it("answers an unknown plugin with 404 and invalid input with 400, and queues nothing", async () => {
    const unknownId = `unknown-${randomUUID()}`;
    expectError(await call("POST", "/api/plugins/execute", { plugin: "nope", data: {}, async: true, runId: unknownId }), 404, "plugin_not_found");
    const invalidId = `invalid-${randomUUID()}`;
    expectError(await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expr: "1" }, async: true, runId: invalidId }), 400, "invalid_input");
    // Nothing was recorded, and no message names either run.
    expectError(await call("GET", `/api/runs/${unknownId}`), 404, "run_not_found");
    expectError(await call("GET", `/api/runs/${invalidId}`), 404, "run_not_found");
    const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
    const texts = peekedMessageItems.map((m) => Buffer.from(m.messageText, "base64").toString("utf8"));
    expect(texts.filter((t) => t.includes(unknownId) || t.includes(invalidId))).toEqual([]);
  });

  it("answers the shell plugin without an allow-list with 403 plugin_disabled before reading its input, and queues nothing", async () => {
    const runId = `shell-${randomUUID()}`;
    const refused = await call("POST", "/api/plugins/execute", { plugin: "shell", data: { not: "an input" }, async: true, runId });
    expectError(refused, 403, "plugin_disabled");
    expect(refused.body.error.details).toMatchObject({ plugin: "shell" });
    expectError(await call("GET", `/api/runs/${runId}`), 404, "run_not_found");
  });

  it("answers a run id that exists with 409 run_exists and its location, and an invalid one with 400", async () => {
    const runId = `twice-${randomUUID()}`;
    expect((await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "one" }, async: true, runId })).status).toBe(202);
    const again = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "two" }, async: true, runId });
    expectError(again, 409, "run_exists");
    expect(again.body.error.details).toEqual({ runId, location: `/api/runs/${runId}` });
    expect((await finishedRun(runId)).result).toBe("one");

    const invalid = await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "x" }, async: true, runId: "no spaces" });
    expectError(invalid, 400, "invalid_request");
    expect(invalid.body.error.details).toEqual({ field: "runId" });
    // A synchronous run takes no run id: it would not be recorded under it.
    expectError(await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "x" }, runId: "sync-run" }), 400, "invalid_request");
  });

  it("records a run that fails permanently as failed, after one delivery", async () => {
    const accepted = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: { expression: "2+*3" }, async: true });
    const run = await finishedRun(accepted.body.runId);
    expect(run).toMatchObject({ state: "failed", attempts: 1, error: { code: "invalid_input", message: expect.any(String) } });
    expect(run).not.toHaveProperty("result");
    const poisoned = (await poisonTexts()).map((t) => Buffer.from(t, "base64").toString("utf8"));
    expect(poisoned.filter((t) => t.includes(accepted.body.runId))).toEqual([]);
  });
});

describe("GET /api/runs/{runId}", () => {
  it("answers an unknown run with 404 run_not_found", async () => {
    const result = await call("GET", `/api/runs/never-${randomUUID()}`);
    expectError(result, 404, "run_not_found");
  });

  it("answers an invalid run id with 400 invalid_request", async () => {
    expectError(await call("GET", "/api/runs/bad%20id"), 400, "invalid_request");
    expectError(await call("GET", `/api/runs/${"x".repeat(129)}`), 400, "invalid_request");
  });
});

describe("the plugin-runs queue trigger", () => {
  it("runs a message put on the queue directly, as base64 JSON, and stores its result blob", async () => {
    const runId = `direct-${randomUUID()}`;
    await queue.sendMessage(base64Json({ runId, plugin: "echo", data: { text: "from the queue" } }));
    const run = await finishedRun(runId);
    expect(run).toMatchObject({ runId, plugin: "echo", state: "succeeded", result: "from the queue", attempts: 1 });
    expect(await readBlob(runId)).toMatchObject({ runId, plugin: "echo", result: "from the queue" });
  });

  it("runs a message without a run id under its queue message id", async () => {
    const sent = await queue.sendMessage(base64Json({ plugin: "test", data: { text: "no id" } }));
    const run = await finishedRun(sent.messageId);
    expect(run).toMatchObject({ runId: sent.messageId, plugin: "echo", state: "succeeded", result: "no id" });
  });

  it("runs a run id delivered twice once, and acknowledges a later redelivery without running it", async () => {
    const sessionId = `dup-${randomUUID()}`;
    const runId = `dup-${randomUUID()}`;
    const message = base64Json({ runId, plugin: "memory", data: { action: "note", text: "remember me once" }, sessionId });
    await queue.sendMessage(message);
    await queue.sendMessage(message);
    expect(await finishedRun(runId)).toMatchObject({ state: "succeeded", attempts: 1 });
    await until(async () => ((await messagesIn(queue)) === 0 ? true : undefined), "both messages settled");
    await queue.sendMessage(message);
    await until(async () => ((await messagesIn(queue)) === 0 ? true : undefined), "the redelivery settled");

    const notes = (await services.memory.recent(sessionRef(localCaller, sessionId), 50)).filter((m) => m.content === "remember me once");
    expect(notes).toHaveLength(1);
    const audit = await call("GET", `/api/memory/audit/${sessionId}`);
    expect(audit.body.entries.filter((e: any) => e.type === "plugin_run" && e.runId === runId)).toHaveLength(1);
    expect(await finishedRun(runId)).toMatchObject({ state: "succeeded", attempts: 1, result: { stored: true, note: "remember me once" } });
  });

  it(`records a message that is not JSON as a failed run under its message id, and moves it to the poison queue after ${maxDequeueCount} deliveries`, async () => {
    const text = `this is not json ${randomUUID()}`;
    const encoded = Buffer.from(text, "utf8").toString("base64");
    const sent = await queue.sendMessage(encoded);
    const run = await finishedRun(sent.messageId);
    expect(run).toMatchObject({
      runId: sent.messageId,
      plugin: null,
      state: "failed",
      attempts: 0,
      error: { code: "invalid_request", message: expect.stringMatching(/neither JSON nor base64-encoded JSON/) },
      // As it was on the queue: base64 that decodes to no JSON object may as well be text that looks like base64.
      messageText: encoded,
    });
    await until(async () => ((await poisonTexts()).includes(encoded) ? true : undefined), "the message in the poison queue", 20_000);
  });

  it("records a message without a plugin as a failed run under its own run id, and poisons it", async () => {
    const runId = `noplugin-${randomUUID()}`;
    const message = base64Json({ runId, data: { text: "x" } });
    await queue.sendMessage(message);
    await until(async () => ((await poisonTexts()).includes(message) ? true : undefined), "the message in the poison queue", 20_000);
    const run = await finishedRun(runId);
    expect(run).toMatchObject({ runId, state: "failed", error: { code: "invalid_request", message: expect.stringMatching(/plugin/) } });
    expect(JSON.parse(run.messageText)).toEqual({ runId, data: { text: "x" } });
  });

  it("refuses the shell plugin on the queue channel (its default policy): recorded failed plugin_forbidden, once", async () => {
    const runId = `shell-${randomUUID()}`;
    await queue.sendMessage(base64Json({ runId, plugin: "shell", data: { command: "ls" } }));
    expect(await finishedRun(runId)).toMatchObject({ plugin: "shell", state: "failed", attempts: 1, error: { code: "plugin_forbidden" } });
  });

  it("rejects a message that names an owner but no run that owner had accepted, and poisons it", async () => {
    const runId = `owned-${randomUUID()}`;
    const message = base64Json({ runId, owner: "0".repeat(32), plugin: "echo", data: { text: "borrowed" } });
    await queue.sendMessage(message);
    await until(async () => ((await poisonTexts()).includes(message) ? true : undefined), "the message in the poison queue", 20_000);
    // Recorded under the queue caller, the local caller with AUTH_MODE=none; it never ran.
    const run = await finishedRun(runId);
    expect(run).toMatchObject({ runId, state: "failed", attempts: 0, error: { code: "invalid_request", message: expect.stringContaining("owner") } });
    expect(run).not.toHaveProperty("result");
  });

  it("runs the message an async request queued, and poisons a copy with the same owner and run id but other data", async () => {
    const runId = `forged-${randomUUID()}`;
    expect((await call("POST", "/api/plugins/execute", { plugin: "echo", data: { text: "accepted" }, async: true, runId })).status).toBe(202);
    const forged = base64Json({ runId, owner: localCaller.principalKey, plugin: "echo", data: { text: "forged" } });
    await queue.sendMessage(forged);
    await until(async () => ((await poisonTexts()).includes(forged) ? true : undefined), "the forged message in the poison queue", 20_000);
    expect(await finishedRun(runId)).toMatchObject({ state: "succeeded", attempts: 1, result: "accepted" });
    expect(await readBlob(runId)).toMatchObject({ runId, result: "accepted" });
  });

  it("records a message for an unknown plugin as failed, once", async () => {
    const runId = `nosuch-${randomUUID()}`;
    await queue.sendMessage(base64Json({ runId, plugin: "nosuch", data: {} }));
    expect(await finishedRun(runId)).toMatchObject({ plugin: "nosuch", state: "failed", attempts: 1, error: { code: "plugin_not_found" } });
  });

  it("runs a plain-JSON message (as QueueClient.sendMessage(JSON.stringify(...)) sends it) like a base64 one", async () => {
    const runId = `plain-${randomUUID()}`;
    await queue.sendMessage(JSON.stringify({ runId, plugin: "echo", data: { text: "plain json ✓" } }));
    const run = await finishedRun(runId);
    expect(run).toMatchObject({ runId, plugin: "echo", state: "succeeded", result: "plain json ✓", attempts: 1 });
    // No owner: it ran as the queue caller, with AUTH_MODE=none the local caller, whose result blob it is.
    expect(await readBlob(runId)).toMatchObject({ runId, result: "plain json ✓" });
    expect(await poisonTexts()).not.toContain(JSON.stringify({ runId, plugin: "echo", data: { text: "plain json ✓" } }));
  });

  it("runs a plain-JSON message without a run id under its queue message id", async () => {
    const sent = await queue.sendMessage(JSON.stringify({ plugin: "echo", data: { text: "plain, no id" } }));
    expect(await finishedRun(sent.messageId)).toMatchObject({ runId: sent.messageId, state: "succeeded", result: "plain, no id" });
  });

  it(`records a message that is neither JSON nor base64 as a failed run under its message id, readable over HTTP, and poisons it unchanged after ${maxDequeueCount} deliveries`, async () => {
    const text = `plain text, not a run ${randomUUID()}`;
    const sent = await queue.sendMessage(text);
    const run = await finishedRun(sent.messageId);
    expect(run).toMatchObject({
      runId: sent.messageId,
      state: "failed",
      error: { code: "invalid_request", message: expect.stringMatching(/neither JSON nor base64-encoded JSON/) },
      messageText: text,
    });
    await until(async () => ((await poisonTexts()).includes(text) ? true : undefined), "the message in the poison queue", 20_000);
  });

  it("records a plain-JSON message that cannot run under its own run id, and poisons it", async () => {
    const runId = `plainbad-${randomUUID()}`;
    const message = JSON.stringify({ runId, plugin: "echo", sesionId: "typo" });
    await queue.sendMessage(message);
    const run = await finishedRun(runId);
    expect(run).toMatchObject({ runId, state: "failed", error: { code: "invalid_request" } });
    expect(JSON.parse(run.messageText)).toEqual({ runId, plugin: "echo", sesionId: "typo" });
    await until(async () => ((await poisonTexts()).includes(message) ? true : undefined), "the message in the poison queue", 20_000);
  });

  it(`moves a run that keeps failing (upstream_unavailable) to the poison queue after ${maxDequeueCount} deliveries and records it failed`, async () => {
    const runId = `flaky-${randomUUID()}`;
    const inputs = `keeps failing ${runId}`;
    const message = base64Json({ runId, plugin: "huggingface", data: { inputs } });
    await queue.sendMessage(message);
    await until(async () => ((await poisonTexts()).includes(message) ? true : undefined), "the message in the poison queue", 20_000);
    const run = await finishedRun(runId);
    expect(run).toMatchObject({
      state: "failed",
      attempts: maxDequeueCount,
      error: { code: "upstream_unavailable", message: expect.stringContaining(`gave up after ${maxDequeueCount} deliveries`) },
    });
    // One request to Hugging Face per delivery.
    expect(huggingFace.requests.filter((r) => (r.body as any)?.inputs === inputs)).toHaveLength(maxDequeueCount);
    expect(await messagesIn(queue)).toBe(0);
  });
});
