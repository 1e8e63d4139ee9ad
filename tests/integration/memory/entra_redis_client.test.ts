import { randomUUID } from "node:crypto";
import { inspect } from "node:util";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger, type Logger } from "../../../src/logging/logger.js";
import { createEntraRedisClient, REDIS_ENTRA_SCOPE, type EntraRedisClient } from "../../../src/memory/entra_redis_client.js";
import { startRedisServer, type RedisServer } from "../../support/redis_server.js";
import { pluginClasses } from "../../../plugins/index.js";
import { localCaller } from "../../../src/auth/caller.js";
import { loadConfig } from "../../../src/config/config.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { createServices } from "../../../src/services.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";

/**
 * Against a redis-server of this file's own whose ACL only lets the identity in with a password:
 * to Redis an Entra access token is just that password. The credential is a stand-in at the edge
 * of the system that hands out scripted tokens.
 */

type Step = { token: string; expiresInMs: number } | { error: string };

class ScriptedCredential implements TokenCredential {
  readonly scopes: Array<string | string[]> = [];
  /** When each request was made (Date.now()). */
  readonly requestedAt: number[] = [];
  /** The expiry of each token handed out, by request. */
  readonly expiries: number[] = [];

  constructor(private readonly steps: readonly Step[]) {}

  async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken | null> {
    this.scopes.push(scopes);
    this.requestedAt.push(Date.now());
    const step = this.steps[Math.min(this.requestedAt.length - 1, this.steps.length - 1)]!;
    if ("error" in step) {
      this.expiries.push(Number.NaN);
      throw new Error(step.error);
    }
    const expiresOnTimestamp = Date.now() + step.expiresInMs;
    this.expiries.push(expiresOnTimestamp);
    return { token: step.token, expiresOnTimestamp };
  }

  get requests(): number {
    return this.requestedAt.length;
  }
}

const hour = 3_600_000;
let server: RedisServer;
let port: number;
let admin: Redis;
const clients: EntraRedisClient[] = [];

beforeAll(async () => {
  server = await startRedisServer();
  port = Number(new URL(server.url).port);
  const bootstrap = new Redis(server.url, { maxRetriesPerRequest: 1 });
  await bootstrap.call("ACL", "SETUSER", "admin", "on", ">admin-secret", "~*", "&*", "+@all");
  await bootstrap.quit();
  admin = new Redis({ host: "127.0.0.1", port, username: "admin", password: "admin-secret", maxRetriesPerRequest: 1 });
  // From here on nobody gets in without a user name and password.
  await admin.call("ACL", "SETUSER", "default", "off", "resetpass", "nopass");
});

afterAll(async () => {
  await admin?.quit();
  await server?.stop();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
});

/** A Redis user named like a managed identity's object id, knowing the given passwords (tokens). */
async function identity(...tokens: string[]): Promise<string> {
  const objectId = randomUUID();
  await admin.call("ACL", "SETUSER", objectId, "on", ...tokens.map((t) => `>${t}`), "~*", "+@all");
  return objectId;
}

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger("debug", (_level, line) => lines.push(line)), lines };
}

function connect(
  objectId: string,
  credential: TokenCredential,
  logger: Logger,
  timing: { refreshMarginMs?: number; minRefreshDelayMs?: number } = {},
): EntraRedisClient {
  const client = createEntraRedisClient({ host: "127.0.0.1", port, tls: false, username: objectId, credential, logger, ...timing });
  clients.push(client);
  return client;
}

async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function authCalls(): Promise<number> {
  const stats = await admin.info("commandstats");
  return Number(/cmdstat_auth:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

async function connectionsOf(objectId: string): Promise<number> {
  const list = (await admin.call("CLIENT", "LIST")) as string;
  return list.split("\n").filter((line) => line.includes(` user=${objectId} `)).length;
}

/** Forces a reconnect: the server drops every connection of the identity. */
async function killConnectionsOf(objectId: string): Promise<void> {
  await admin.call("CLIENT", "KILL", "USER", objectId);
}

function readyEvents(client: EntraRedisClient): { count: number } {
  const counter = { count: 0 };
  client.redis.on("ready", () => (counter.count += 1));
  return counter;
}

function expectNoTokenIn(lines: readonly string[]): void {
  for (const line of lines) expect(line).not.toMatch(/tok-/);
}

describe("createEntraRedisClient against a real redis-server with an ACL", () => {
  it("connects as the object id with the first token for the Redis scope, and commands work", async () => {
    const objectId = await identity("tok-1");
    const credential = new ScriptedCredential([{ token: "tok-1", expiresInMs: hour }]);
    const { logger, lines } = recordingLogger();
    const client = connect(objectId, credential, logger);

    await client.ready;
    expect(credential.scopes).toEqual([REDIS_ENTRA_SCOPE]);
    expect(REDIS_ENTRA_SCOPE).toBe("https://redis.azure.com/.default");
    expect(await client.redis.call("ACL", "WHOAMI")).toBe(objectId);
    await client.redis.set(`k:${objectId}`, "v");
    expect(await client.redis.get(`k:${objectId}`)).toBe("v");
    expectNoTokenIn(lines);
  });

  it("queues commands issued before the first token arrives and runs them once authenticated", async () => {
    const objectId = await identity("tok-1");
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const credential = new ScriptedCredential([{ token: "tok-1", expiresInMs: hour }]);
    const slow: TokenCredential = {
      getToken: async (scopes) => {
        await gate;
        return credential.getToken(scopes);
      },
    };
    const client = connect(objectId, slow, recordingLogger().logger);

    const early = client.redis.incr(`early:${objectId}`);
    await new Promise((r) => setTimeout(r, 100));
    expect(client.redis.status).toBe("wait");
    release();
    expect(await early).toBe(1);
    expect(await client.redis.call("ACL", "WHOAMI")).toBe(objectId);
  });

  it("reports a token the server does not know as an authentication error, without hanging or leaking it", async () => {
    const objectId = await identity("tok-1");
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const credential = new ScriptedCredential([{ token: "tok-unknown", expiresInMs: hour }]);
    const { logger, lines } = recordingLogger();
    const client = connect(objectId, credential, logger, { minRefreshDelayMs: 200 });

    await expect(client.ready).rejects.toThrow(/WRONGPASS/);
    const failure = await client.redis.get("anything").then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(inspect(failure, { depth: 5 })).not.toMatch(/tok-unknown/);
    // A refused token makes the client ask for a fresh one (no sooner than the floor).
    await waitFor(() => credential.requests >= 2, "a new token after the refusal");
    expect(lines.some((line) => line.includes("redis connection error") && line.includes("WRONGPASS"))).toBe(true);
    expectNoTokenIn(lines);
    // Closing between two reconnect attempts (where ioredis itself never reaches "end") neither
    // hangs nor leaves a timer or a connection; later commands fail at once.
    await waitFor(() => client.redis.status === "reconnecting", "a reconnect attempt to be pending");
    const started = Date.now();
    await client.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length).toBeLessThanOrEqual(timersBefore);
    expect(await connectionsOf(objectId)).toBe(0);
    await expect(client.redis.get("anything")).rejects.toThrow(/closed/i);
    const requests = credential.requests;
    await new Promise((r) => setTimeout(r, 400));
    expect(credential.requests).toBe(requests);
  });

  it("re-authenticates with a new token before the old one expires, and reconnects with the new one", async () => {
    const objectId = await identity("tok-1", "tok-2");
    const credential = new ScriptedCredential([
      { token: "tok-1", expiresInMs: 1500 },
      { token: "tok-2", expiresInMs: hour },
    ]);
    const { logger, lines } = recordingLogger();
    const client = connect(objectId, credential, logger, { refreshMarginMs: 1000, minRefreshDelayMs: 100 });
    const ready = readyEvents(client);
    await client.ready;
    const authsBefore = await authCalls();

    await waitFor(() => lines.some((line) => line.includes("re-authenticated")), "the re-authentication", 3000);
    expect(credential.requests).toBe(2);
    expect(credential.scopes).toEqual([REDIS_ENTRA_SCOPE, REDIS_ENTRA_SCOPE]);
    // Asked about refreshMarginMs before the first token expired, and AUTH went over the live connection.
    expect(credential.requestedAt[1]!).toBeLessThan(credential.expiries[0]! - 500);
    expect(await authCalls()).toBe(authsBefore + 1);
    expect(ready.count).toBe(1);
    expect(await client.redis.incr(`n:${objectId}`)).toBe(1);

    // The server forgets tok-1 and drops the connection: the reconnect can only succeed with tok-2.
    await admin.call("ACL", "SETUSER", objectId, "<tok-1");
    await killConnectionsOf(objectId);
    expect(await client.redis.incr(`n:${objectId}`)).toBe(2);
    expect(ready.count).toBe(2);
    expect(await client.redis.call("ACL", "WHOAMI")).toBe(objectId);
    expectNoTokenIn(lines);
  });

  it("drops no command of a steady stream across a refresh and across a forced reconnect", async () => {
    const objectId = await identity("tok-1", "tok-2");
    const credential = new ScriptedCredential([
      { token: "tok-1", expiresInMs: 1200 },
      { token: "tok-2", expiresInMs: hour },
    ]);
    const { logger, lines } = recordingLogger();
    const client = connect(objectId, credential, logger, { refreshMarginMs: 1000, minRefreshDelayMs: 100 });
    const ready = readyEvents(client);
    const key = `stream:${objectId}`;

    const minimum = 500;
    const inFlight = 4;
    let issued = 0;
    let pending = 0;
    let done = false;
    const results: Array<PromiseSettledResult<number>> = [];
    const worker = async (): Promise<void> => {
      while (!done || issued < minimum) {
        issued += 1;
        pending += 1;
        const [result] = await Promise.allSettled([client.redis.incr(key)]);
        pending -= 1;
        results.push(result!);
        await new Promise((r) => setTimeout(r, 2));
      }
    };
    // Commands are issued from the start: the first ones wait for the first token.
    const workers = Array.from({ length: inFlight }, () => worker());

    await waitFor(() => lines.some((line) => line.includes("re-authenticated")), "the re-authentication", 3000);
    const duringRefresh = issued;
    await admin.call("ACL", "SETUSER", objectId, "<tok-1");
    await new Promise((r) => setTimeout(r, 100));
    // The server holds writes for a moment, so that INCRs are certainly in flight (sent, not yet
    // executed) when the connection is killed: ioredis must resend them on the new connection. (Were
    // one executed and only its reply lost with the socket, the resend would run it twice: ioredis
    // resends unanswered commands, at least once, never dropped.)
    await admin.call("CLIENT", "PAUSE", "2000", "WRITE");
    await waitFor(() => pending === inFlight, "INCRs held by the paused server");
    const inFlightAtKill = pending;
    await killConnectionsOf(objectId);
    await admin.call("CLIENT", "UNPAUSE");
    await waitFor(() => ready.count === 2, "the reconnect");
    const afterReconnect = issued;
    await new Promise((r) => setTimeout(r, 100));
    done = true;
    await Promise.all(workers);

    expect(duringRefresh).toBeGreaterThan(0);
    expect(inFlightAtKill).toBe(inFlight);
    expect(issued).toBeGreaterThan(afterReconnect);
    const rejected = results.filter((r) => r.status === "rejected");
    expect(rejected).toEqual([]);
    expect(results).toHaveLength(issued);
    expect(issued).toBeGreaterThanOrEqual(minimum);
    expect(Number(await client.redis.get(key))).toBe(issued);
    // Each INCR ran exactly once: the replies are exactly 1..issued.
    const values = results.map((r) => (r as PromiseFulfilledResult<number>).value).sort((a, b) => a - b);
    expect(values).toEqual(Array.from({ length: issued }, (_, i) => i + 1));
    expect(credential.requests).toBe(2);
  });

  it("retries a token request that fails during a refresh while the connection stays usable", async () => {
    const objectId = await identity("tok-1", "tok-2");
    const credential = new ScriptedCredential([
      { token: "tok-1", expiresInMs: 2000 },
      { error: "managed identity endpoint unavailable" },
      { token: "tok-2", expiresInMs: hour },
    ]);
    const { logger, lines } = recordingLogger();
    const client = connect(objectId, credential, logger, { refreshMarginMs: 1500, minRefreshDelayMs: 300 });
    await client.ready;
    const key = `retry:${objectId}`;

    let count = 0;
    while (!lines.some((line) => line.includes("re-authenticated"))) {
      expect(await client.redis.incr(key)).toBe(++count);
      await new Promise((r) => setTimeout(r, 20));
      if (count > 500) throw new Error("no re-authentication");
    }
    expect(credential.requests).toBe(3);
    // The failed request was retried after the back-off floor, before tok-1 expired.
    expect(credential.requestedAt[2]! - credential.requestedAt[1]!).toBeGreaterThanOrEqual(250);
    expect(credential.requestedAt[2]!).toBeLessThan(credential.expiries[0]!);
    const warnings = lines.filter((line) => line.includes("could not be refreshed"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("managed identity endpoint unavailable");
    expect(count).toBeGreaterThan(5);

    await admin.call("ACL", "SETUSER", objectId, "<tok-1");
    await killConnectionsOf(objectId);
    expect(await client.redis.incr(key)).toBe(count + 1);
    expectNoTokenIn(lines);
  });

  it("close() leaves no timer and no connection behind", async () => {
    const objectId = await identity("tok-1");
    const timersBefore = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const credential = new ScriptedCredential([{ token: "tok-1", expiresInMs: hour }]);
    const client = createEntraRedisClient({
      host: "127.0.0.1",
      port,
      tls: false,
      username: objectId,
      credential,
      logger: recordingLogger().logger,
    });
    await client.ready;
    await client.redis.ping();
    expect(await connectionsOf(objectId)).toBe(1);

    await client.close();
    await client.close();
    expect(client.redis.status).toBe("end");
    await waitFor(async () => (await connectionsOf(objectId)) === 0, "the server to see the connection closed", 2000);
    const timersAfter = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(timersAfter).toBeLessThanOrEqual(timersBefore);
    await expect(client.redis.ping()).rejects.toThrow(/closed/i);
    expect(credential.requests).toBe(1);
  });
});

describe("the service factory with REDIS_HOST", () => {
  it("keeps session memory in Redis through the managed identity's token", async () => {
    const objectId = await identity("tok-svc");
    const credential = new ScriptedCredential([{ token: "tok-svc", expiresInMs: hour }]);
    const config = loadConfig({ REDIS_HOST: "127.0.0.1", REDIS_PORT: String(port), REDIS_TLS: "false", REDIS_USERNAME: objectId, LOG_LEVEL: "error" });
    const services = createServices(config, { plugins: pluginClasses, storage: undefined, logger: silentLogger, credential, audit: new RecordingAuditLog() });
    try {
      expect(services.memory.kind).toBe("redis");
      await services.chat.handle({ caller: localCaller, message: "/run memory note kept in redis", sessionId: "entra-1" });
      const stored = (await admin.lrange(`${config.memory.keyPrefix}${localCaller.principalKey}:entra-1`, 0, -1)).map((m) => JSON.parse(m).role);
      expect(stored).toEqual(["user", "note", "assistant"]);
      expect(credential.scopes).toEqual(["https://redis.azure.com/.default"]);
    } finally {
      await services.close();
    }
    expect(await connectionsOf(objectId)).toBe(0);
  });
});
