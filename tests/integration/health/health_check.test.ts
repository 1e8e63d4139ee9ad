import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { httpFunctions } from "../../../functions/index.js";
import { pluginClasses } from "../../../plugins/index.js";
import type { AzuritePorts } from "../../../src/azure/connection_string.js";
import { loadConfig } from "../../../src/config/config.js";
import { createStorageProbe } from "../../../src/azure/storage_probe.js";
import { HealthCheck, healthReportTtlMs, type HealthReport } from "../../../src/health/health_check.js";
import { startLocalHost, type LocalHost } from "../../../src/host/local_host.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { createServices, type Services } from "../../../src/services.js";
import { freeAzuritePorts, startAzurite, type AzuriteProcess } from "../../support/azurite_process.js";
import { freePort } from "../../support/free_port.js";
import { startRedisServer, type RedisServer } from "../../support/redis_server.js";

// A private redis-server and Azurite, stopped and started again on the same ports.
let redisPort: number;
let azuritePorts: AzuritePorts;
let redis: RedisServer | undefined;
let azurite: AzuriteProcess | undefined;
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  [redisPort, azuritePorts] = [await freePort(), await freeAzuritePorts()];
  [redis, azurite] = await Promise.all([startRedisServer(redisPort), startAzurite(azuritePorts)]);
  const config = loadConfig({
    REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    STORAGE_CONNECTION_STRING: azurite!.connectionString,
    LOG_LEVEL: "error",
  });
  services = createServices(config, { plugins: pluginClasses, storage: config.storage, logger: silentLogger });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
}, 30_000);

afterAll(async () => {
  await host?.close();
  await services?.close();
  await Promise.all([redis?.stop(), azurite?.stop()]);
});

const afterTtl = () => new Promise((r) => setTimeout(r, healthReportTtlMs + 50));

/** Calls health (as a probe would, once a TTL has passed) until `done` holds, or fails after `ms`. */
async function until(done: (report: HealthReport) => boolean, ms = 15_000): Promise<HealthReport> {
  const deadline = Date.now() + ms;
  for (;;) {
    await afterTtl();
    const report = await services.health.check();
    if (done(report)) return report;
    if (Date.now() > deadline) throw new Error(`health never got there: ${JSON.stringify(report)}`);
  }
}

async function get(path: string): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${host.url}${path}`);
  return { status: response.status, body: await response.json(), ms: Date.now() - started };
}

/** What a platform probe sees while a dependency is down: readiness 503 with the reason, liveness 200 at once. */
async function expectOutageOverHttp(down: "storage" | "redis") {
  const health = await get("/api/health");
  expect(health.status).toBe(503);
  expect(health.body).toMatchObject({ status: "unhealthy", checks: { [down]: { status: "down" } } });
  const live = await get("/api/health/live");
  expect(live.status).toBe(200);
  expect(live.body).toEqual({ status: "ok", version: services.config.version });
  // No dependency call: far below the probes' 3 s deadline.
  expect(live.ms).toBeLessThan(500);
}

async function pingsServed(): Promise<number> {
  const client = new Redis(`redis://127.0.0.1:${redisPort}`, { maxRetriesPerRequest: 0 });
  try {
    const stats = await client.info("commandstats");
    return Number(/cmdstat_ping:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  } finally {
    client.disconnect();
  }
}

describe("GET /api/health's check against real dependencies", () => {
  it("makes one probe of each dependency per TTL however often it is asked, concurrent callers sharing it", async () => {
    await until((report) => report.status === "ok");
    // The services' own probe of storage, counted: a health check of the same parts.
    const { config } = services;
    const probe = createStorageProbe(await services.storageClients!(), {
      auditTable: config.audit.tableName,
      runsTable: config.runs.tableName,
      runsQueue: config.runs.queueName,
      resultsContainer: config.runs.resultsContainer,
    });
    const storageProbes = vi.spyOn(probe, "missing");
    const health = new HealthCheck(config.version, services.memory, probe, undefined, silentLogger);
    const redisBefore = await pingsServed();
    const first = await Promise.all(Array.from({ length: 20 }, () => health.check()));
    for (let i = 0; i < 20; i++) await health.check();
    expect(new Set(first).size).toBe(1);
    expect(first[0]!.status).toBe("ok");
    expect(storageProbes).toHaveBeenCalledTimes(1);
    expect((await pingsServed()) - redisBefore).toBe(1);

    await afterTtl();
    await health.check();
    expect(storageProbes).toHaveBeenCalledTimes(2);
    expect((await pingsServed()) - redisBefore).toBe(2);
  });

  it("reports storage down (unhealthy) while Azurite is stopped, and ok again once it is back", async () => {
    await until((report) => report.status === "ok");
    await azurite!.stop();
    azurite = undefined;
    const down = await until((report) => report.status === "unhealthy");
    expect(down.checks).toMatchObject({ storage: { status: "down" }, redis: { status: "ok" } });
    await expectOutageOverHttp("storage");
    azurite = await startAzurite(azuritePorts);
    const back = await until((report) => report.status === "ok");
    expect(back.checks.storage.status).toBe("ok");
    expect((await get("/api/health")).status).toBe(200);
  }, 60_000);

  it("reports redis down (unhealthy) while redis-server is stopped, and ok again once it is back", async () => {
    await until((report) => report.status === "ok");
    await redis!.stop();
    redis = undefined;
    const down = await until((report) => report.status === "unhealthy");
    expect(down.checks).toMatchObject({ redis: { status: "down" }, storage: { status: "ok" } });
    await expectOutageOverHttp("redis");
    redis = await startRedisServer(redisPort);
    const back = await until((report) => report.status === "ok");
    expect(back.checks.redis.status).toBe("ok");
    expect((await get("/api/health")).status).toBe(200);
  }, 60_000);
});
