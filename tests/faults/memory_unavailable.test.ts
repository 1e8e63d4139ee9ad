import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { callApi, type ApiAnswer } from "../support/api_client.js";
import { freePort } from "../support/free_port.js";
import { useLlmStandIn } from "../support/llm_stand_in.js";
import { startRedisServer, type RedisServer } from "../support/redis_server.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The memory plugin with its Redis gone (a private redis-server, killed): every route that runs it
 * answers 503 memory_unavailable, as the chat route answers a turn it cannot remember, and within
 * a bounded time (the Redis client's reconnect attempts, not a plugin timeout). The reference is a
 * chat turn for the model, which reads the session's history first.
 */

const llm = useLlmStandIn();

let redisPort: number;
let redis: RedisServer | undefined;
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  redisPort = await freePort();
  redis = await startRedisServer(redisPort);
  services = integrationServices({
    config: integrationConfig({ REDIS_URL: redis.url, OLLAMA_BASE_URL: llm.url, OLLAMA_MODEL: "llama3.1", LLM_MAX_RETRIES: "0" }),
  });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
}, 30_000);

afterAll(async () => {
  await host?.close();
  await services?.close();
  await redis?.stop();
});

/**
 * How long a request may take with Redis down: one Redis call, which waits in ioredis's offline
 * queue for at most two reconnect attempts (maxRetriesPerRequest 1; attempts back off up to 2 s,
 * each refused at once), then fails. A chat turn for the model waits the same on its history.
 */
const boundMs = 6000;

async function timed(request: () => Promise<ApiAnswer>): Promise<ApiAnswer & { ms: number }> {
  const started = Date.now();
  const answer = await request();
  return { ...answer, ms: Date.now() - started };
}

const execute = (data: unknown, sessionId: string) => callApi(host.url, "POST", "/api/plugins/execute", { body: { plugin: "memory", data, sessionId } });
const chat = (message: string, sessionId: string) => callApi(host.url, "POST", "/api/chat", { body: { message, sessionId } });

function expectMemoryUnavailable(answer: ApiAnswer & { ms: number }, what: string): void {
  expect(answer.status, `${what}: ${answer.text}`).toBe(503);
  expect(answer.body, what).toMatchObject({ status: "error", error: { code: "memory_unavailable", message: expect.any(String) } });
  expect(answer.ms, what).toBeLessThan(boundMs);
  console.log(what, answer.ms);
}

describe("the memory plugin with Redis down", () => {
  const sessionId = `memory-down-${randomUUID()}`;

  it("works while Redis is up", async () => {
    expect((await execute({ action: "note", text: "kept" }, sessionId)).status).toBe(200);
    const listed = await execute({ action: "list" }, sessionId);
    expect(listed.status).toBe(200);
    expect(listed.body.result.messages).toMatchObject([{ role: "note", content: "kept" }]);
  });

  it("answers 503 memory_unavailable on execute and on chat /run, for every action, within a bounded time", async () => {
    await redis!.stop();
    redis = undefined;
    for (const data of [{ action: "list" }, { action: "search", query: "kept" }, { action: "note", text: "lost" }, { action: "clear" }]) {
      expectMemoryUnavailable(await timed(() => execute(data, sessionId)), `execute ${data.action}`);
    }
    for (const command of ["list", "note lost", "clear"]) {
      expectMemoryUnavailable(await timed(() => chat(`/run memory ${command}`, sessionId)), `chat /run memory ${command}`);
    }
    // The reference: a turn for the model, which cannot read the session's history.
    expectMemoryUnavailable(await timed(() => chat("what did I note?", sessionId)), "chat with the model");
    expect(llm.chatRequests).toEqual([]);
  }, 60_000);

  it("works again once Redis is back", async () => {
    redis = await startRedisServer(redisPort);
    await services.memory.ping();
    const noted = await execute({ action: "note", text: "again" }, sessionId);
    expect(noted.status, noted.text).toBe(200);
  }, 30_000);
});
