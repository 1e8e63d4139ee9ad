import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import type { AppConfig } from "../../src/config/config.js";
import { healthReportTtlMs } from "../../src/health/health_check.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import type { Services } from "../../src/services.js";
import type { AzuritePorts } from "../../src/azure/connection_string.js";
import { callApi, settledRun, type ApiAnswer } from "../support/api_client.js";
import { freeAzuritePorts, startAzurite, type AzuriteProcess } from "../support/azurite_process.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The storage account emptied behind a running app: a private Azurite started again, empty (in
 * memory), on the same ports. The next write that finds its table, queue or container missing
 * creates it again and is retried, so async runs and audit writes work again at once; until then
 * health names what is missing.
 */

let ports: AzuritePorts;
let azurite: AzuriteProcess | undefined;
let config: AppConfig;
let services: Services;
let host: LocalHost;
let queues: QueueHost;

beforeAll(async () => {
  ports = await freeAzuritePorts();
  azurite = await startAzurite(ports);
  config = integrationConfig({ STORAGE_CONNECTION_STRING: azurite.connectionString, QUEUE_POLL_INTERVAL_MS: "50" });
  services = integrationServices({ config });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  queues = await startQueueHost({ functions: queueFunctions, services });
}, 30_000);

afterAll(async () => {
  await queues?.stop();
  await host?.close();
  await services?.close();
  await azurite?.stop();
});

const call = (method: string, path: string, body?: unknown) => callApi(host.url, method, path, { body });
const executeAsync = (text: string) => call("POST", "/api/plugins/execute", { plugin: "echo", data: { text }, async: true });
const executeInSession = (text: string, sessionId: string) => call("POST", "/api/plugins/execute", { plugin: "echo", data: { text }, sessionId });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** GET /api/health once its last report has expired, so that it probes again. */
async function freshHealth(): Promise<ApiAnswer> {
  await sleep(healthReportTtlMs + 50);
  return call("GET", "/api/health");
}

async function expectAsyncRunServed(text: string): Promise<void> {
  const accepted = await executeAsync(text);
  expect(accepted.status, accepted.text).toBe(202);
  const run = await settledRun((path) => call("GET", path), accepted.body.runId);
  expect(run.body).toMatchObject({ state: "succeeded", result: text });
}

async function expectAudited(text: string): Promise<void> {
  const sessionId = `recreated-${randomUUID()}`;
  const executed = await executeInSession(text, sessionId);
  expect(executed.status, executed.text).toBe(200);
  const audit = await call("GET", `/api/memory/audit/${sessionId}`);
  expect(audit.status).toBe(200);
  expect(audit.body.entries).toMatchObject([{ type: "plugin_run", plugin: "echo", result: text, outcome: "success" }]);
}

/** What the app writes, as health names it. */
const written = () => [
  `table ${config.audit.tableName}`,
  `table ${config.runs.tableName}`,
  `queue ${config.runs.queueName}`,
  `container ${config.runs.resultsContainer}`,
];

describe("storage emptied behind the running app (Azurite restarted empty on the same ports)", () => {
  it("serves async runs and audited executes, health ok, with the account as the app left it", async () => {
    await expectAsyncRunServed("before");
    await expectAudited("before");
    const health = await freshHealth();
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", checks: { storage: { status: "ok" } } });
    expect(health.body.checks.storage.missing).toBeUndefined();
  });

  it("names in health what the account lost, degraded but serving (200), and reads an audit log it lost as empty", async () => {
    await azurite!.stop();
    azurite = await startAzurite(ports);
    const health = await freshHealth();
    expect(health.status, health.text).toBe(200);
    expect(health.body).toMatchObject({ status: "degraded", checks: { storage: { status: "degraded" } } });
    expect([...health.body.checks.storage.missing].sort()).toEqual(written().sort());
    const audit = await call("GET", `/api/memory/audit/lost-${randomUUID()}`);
    expect(audit.status, audit.text).toBe(200);
    expect(audit.body.entries).toEqual([]);
  });

  it("accepts the next async run at once and runs it: the runs table, the queue and the results container created again", async () => {
    const started = Date.now();
    await expectAsyncRunServed("after");
    expect(Date.now() - started).toBeLessThan(5000);
    const health = await freshHealth();
    expect(health.body.checks.storage.missing).toEqual([`table ${config.audit.tableName}`]);
  });

  it("writes an execute with a session to the audit table, created again, right after the account was emptied again", async () => {
    await azurite!.stop();
    azurite = await startAzurite(ports);
    // Nothing else touches storage first: the audit write itself finds its table missing.
    await expectAudited("after");
    const health = await freshHealth();
    expect(health.status).toBe(200);
    expect([...health.body.checks.storage.missing].sort()).toEqual(
      written()
        .filter((name) => !name.includes(config.audit.tableName))
        .sort(),
    );
  });

  it("is ok again, nothing missing, once every one has been written again", async () => {
    await expectAsyncRunServed("last");
    const health = await freshHealth();
    expect(health.body).toMatchObject({ status: "ok", checks: { storage: { status: "ok" } } });
    expect(health.body.checks.storage.missing).toBeUndefined();
  });
});
