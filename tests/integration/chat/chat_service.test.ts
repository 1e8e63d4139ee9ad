import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import { Redis } from "ioredis";
import { afterEach, describe, expect, inject, it } from "vitest";
import { pluginClasses } from "../../../plugins/index.js";
import { TableAuditLog } from "../../../src/audit/table_audit_log.js";
import { localCaller } from "../../../src/auth/caller.js";
import { azuriteConnectionString } from "../../../src/azure/connection_string.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { sessionRef, sessionStorageKey } from "../../../src/memory/session_ref.js";
import { createServices, type Services } from "../../../src/services.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { integrationConfig } from "../../support/test_services.js";

type PipelinePolicy = NonNullable<TableServiceClientOptions["additionalPolicies"]>[number]["policy"];

let services: Services | undefined;
let monitor: Redis | undefined;

afterEach(async () => {
  await services?.close();
  monitor?.disconnect();
  services = undefined;
  monitor = undefined;
});

/** Services against the real redis-server, with an audit log over the given table connection, noting every Table write request. */
function build(connectionString: string, overrides: Record<string, string> = {}): { services: Services; tableWrites: string[]; prefix: string } {
  const config = integrationConfig(overrides);
  const tableWrites: string[] = [];
  const counter: PipelinePolicy = {
    name: "tableWriteCounter",
    sendRequest: (request, next) => {
      if (request.method !== "GET") tableWrites.push(`${request.method} ${new URL(request.url).pathname}`);
      return next(request);
    },
  };
  const table = TableClient.fromConnectionString(connectionString, config.audit.tableName, {
    allowInsecureConnection: true,
    // No retries: a write that fails is seen as one request, and the closed-port test stays short.
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ position: "perCall", policy: counter }],
  });
  services = createServices(config, { plugins: pluginClasses, storage: config.storage, logger: silentLogger, audit: new TableAuditLog(table) });
  return { services, tableWrites, prefix: config.memory.keyPrefix };
}

/** Every command the redis-server executes, with the client that sent it (MONITOR on a private connection). */
async function monitorRedis(): Promise<{ source: string; args: string[] }[]> {
  const seen: { source: string; args: string[] }[] = [];
  monitor = await new Redis(inject("redisUrl")).monitor();
  monitor.on("monitor", (_time: string, args: string[], source: string) => seen.push({ source, args }));
  return seen;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("a chat turn against the real redis-server and Azurite", () => {
  it("writes one /run turn with a session as one Table write request and one Redis MULTI", async () => {
    const { services, tableWrites, prefix } = build(inject("storageConnectionString"));
    // The first turn also creates the table: not part of what a turn costs.
    await services.chat.handle({ caller: localCaller, message: "/run echo warm", sessionId: "warm-up" });
    const commands = await monitorRedis();
    await settle();
    tableWrites.length = 0;

    const session = sessionRef(localCaller, "counted");
    const reply = await services.chat.handle({ caller: localCaller, message: "/run echo hello", sessionId: session.sessionId });
    await settle();

    expect(reply.reply).toBe("hello");
    expect(tableWrites).toHaveLength(1);
    expect(tableWrites[0]).toMatch(/^POST .*\$batch$/);
    const key = `${prefix}${sessionStorageKey(session)}`;
    const ours = new Set(commands.filter((c) => c.args.includes(key)).map((c) => c.source));
    expect(ours.size).toBe(1);
    const fromUs = commands.filter((c) => ours.has(c.source)).map((c) => c.args[0]!.toLowerCase());
    expect(fromUs.filter((name) => name === "multi")).toHaveLength(1);
    expect(fromUs.filter((name) => name === "rpush")).toHaveLength(1);
    expect((await services.audit.list(session, { limit: 10 })).entries.map((e) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);
    expect((await services.memory.recent(session)).map((m) => m.content)).toEqual(["/run echo hello", "hello"]);
  });

  it("answers 503 storage_unavailable when the audit transaction fails, and leaves nothing of the turn in memory", async () => {
    const port = await freePort();
    // A table endpoint where nothing listens: the commit point is never reached.
    const { services } = build(azuriteConnectionString("127.0.0.1", { blob: port, queue: port, table: port }));
    const session = sessionRef(localCaller, "no-audit");
    const error = await failureOf(services.chat.handle({ caller: localCaller, message: "/run echo lost", sessionId: session.sessionId }));
    expect(error.code).toBe("storage_unavailable");
    expect(error.details).toMatchObject({ sessionId: "no-audit" });
    expect(await services.memory.recent(session)).toEqual([]);
  });

  it("answers with the audit's record when memory cannot be written after the audit committed", { timeout: 30_000 }, async () => {
    const port = await freePort();
    // Redis where nothing listens: the memory write after the commit point fails (and is tried once more).
    const { services } = build(inject("storageConnectionString"), { REDIS_URL: `redis://127.0.0.1:${port}` });
    const session = sessionRef(localCaller, "no-memory");
    const reply = await services.chat.handle({ caller: localCaller, message: "/run echo kept", sessionId: session.sessionId });
    expect(reply).toMatchObject({ reply: "kept", source: "plugin" });
    const entries = (await services.audit.list(session, { limit: 10 })).entries;
    expect(entries.map((e) => [e.type, e.outcome])).toEqual([
      ["user_message", undefined],
      ["plugin_run", "success"],
      ["reply", "success"],
    ]);
    expect(entries[2]).toMatchObject({ content: "kept", runId: reply.runId });
  });
});
