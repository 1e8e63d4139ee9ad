import type { TokenCredential } from "@azure/identity";
import type { Redis } from "ioredis";
import { createAuthenticator, type Authenticator } from "./auth/authenticator.js";
import { createCaller, localCaller, queuePrincipalId, type Caller } from "./auth/caller.js";
import { PluginPolicy } from "./auth/plugin_policy.js";
import type { RateLimiter, RateLimitSettings } from "./auth/rate_limiter.js";
import type { JwtAuthenticatorOptions } from "./auth/jwt_authenticator.js";
import type { AuditLog } from "./audit/audit_event.js";
import { InProcessResultCache, type ResultCache } from "./cache/result_cache.js";
import { UnconfiguredAuditLog } from "./audit/unconfigured_audit_log.js";
import type { StorageClients } from "./azure/storage_clients.js";
import { ChatService } from "./chat/chat_service.js";
import { Conversation } from "./chat/conversation.js";
import { AppError } from "./errors/app_error.js";
import { storageNotConfigured } from "./azure/storage_not_configured.js";
import type { ChatModel } from "./llm/chat_model.js";
import { deferred, memoize } from "./lazy/deferred.js";
import { createLazyChatModel } from "./llm/lazy_chat_model.js";
import type { AppConfig, StorageConfig } from "./config/config.js";
import { HealthCheck, type StorageProbe } from "./health/health_check.js";
import { createLogger, type Logger } from "./logging/logger.js";
import { InProcessSessionMemory } from "./memory/in_process_session_memory.js";
import type { RedisStores } from "./memory/redis_stores.js";
import type { SessionMemory } from "./memory/session_memory.js";
import type { AgentRunner, PluginClass } from "./plugins/plugin.js";
import { PluginRegistry } from "./plugins/plugin_registry.js";
import { PluginRunner } from "./plugins/plugin_runner.js";
import type { ResultStore, RunQueue, RunStore } from "./runs/run_record.js";
import type { ApprovalIndex } from "./approvals/approval_index.js";
import { ApprovalService } from "./approvals/approval_service.js";
import { RunProcessor } from "./runs/run_processor.js";
import { RunService } from "./runs/run_service.js";
import { tracedChatModel } from "./telemetry/traced_chat_model.js";
import { UnconfiguredRunStorage } from "./runs/unconfigured_runs.js";

/** Everything a function handler, the local host or the CLI needs; built once per process. */
export interface Services {
  readonly config: AppConfig;
  readonly logger: Logger;
  /** Who calls: resolved once per request by the HTTP function wrapper. */
  readonly authenticator: Authenticator;
  /** Which plugins a caller may run on which channel: checked by the runner, read by the plugin list and the model's tools. */
  readonly policy: PluginPolicy;
  readonly rateLimiter: RateLimiter;
  readonly memory: SessionMemory;
  readonly audit: AuditLog;
  readonly registry: PluginRegistry;
  readonly runner: PluginRunner;
  readonly chat: ChatService;
  readonly health: HealthCheck;
  /** Asynchronous runs: accepted over HTTP, queued, read back by id. */
  readonly runs: RunService;
  /** Runs that wait for an approver: requested by the runner, listed and decided by approvers. */
  readonly approvals: ApprovalService;
  /** Runs plugin-run queue messages (the queue trigger's handler, in either host). */
  readonly runProcessor: RunProcessor;
  /** The configured storage's clients (their SDKs imported on the first call); undefined without storage. The local host polls its queues through them. */
  readonly storageClients: (() => Promise<StorageClients>) | undefined;
  /** Shuts plugins down and closes connections; bounded in time. */
  close(): Promise<void>;
}

export interface ServiceOptions {
  readonly plugins: readonly PluginClass[];
  /** Storage for the audit log; without it, anything that needs the log fails with storage_unavailable. */
  readonly storage: StorageConfig | undefined;
  readonly logger?: Logger;
  /** Replaces the audit log; for unit tests of the layers above it. */
  readonly audit?: AuditLog;
  /** Replaces the configured language model; for unit tests of the conversation. */
  readonly chatModel?: ChatModel;
  /** Replaces DefaultAzureCredential; for tests of identity-based connections against local servers. */
  readonly credential?: TokenCredential;
  /** Key-set refresh and fetch limits of AUTH_MODE=jwt; for tests with a short cooldown. */
  readonly jwt?: JwtAuthenticatorOptions;
}

export function createServices(config: AppConfig, options: ServiceOptions): Services {
  const logger = options.logger ?? createLogger(config.logLevel);
  // Heavy clients are imported when first used, each a chunk of its own in the bundle (bench/README.md, "Cold start"):
  // @azure/identity when a token is first asked for, each storage SDK on its first call, the LLM client on the first model turn.
  const credential =
    options.credential ??
    deferred<TokenCredential>(async () => (await import("./azure/azure_credential.js")).createAzureCredential(config.azure.clientId), { getToken: true });
  const lazyCredential = () => credential;
  const memory = createStores(config, logger, lazyCredential);
  const storage = options.storage;
  const storageClients = storage ? memoize(async () => (await import("./azure/storage_clients.js")).createStorageClients(storage, lazyCredential)) : undefined;
  const audit = options.audit ?? (storage ? tableAuditLog(storage, config.audit.tableName, lazyCredential) : new UnconfiguredAuditLog());
  const runStorage = createRunStorage(config, storage, lazyCredential);
  // Runs of messages no caller submitted: one system principal in the cloud modes, the one local caller with AUTH_MODE=none.
  const queueCaller: Caller = config.auth.mode === "none" ? localCaller : createCaller("system", queuePrincipalId);
  const configuredModel = options.chatModel ?? createLazyChatModel(config.llm, lazyCredential, logger);
  // A span per model turn, whichever provider answers (no-ops without telemetry).
  const model = configuredModel ? tracedChatModel(configuredModel) : undefined;
  // The agent plugin needs the conversation, which needs the plugins: bound once both exist.
  let conversation: Conversation | undefined;
  const agent: AgentRunner = {
    run: async (instruction, { caller, sessionId, signal, turn, lineage }) => {
      if (!conversation) throw new AppError("llm_unavailable", "no language model is configured");
      return conversation.answer({ history: [], message: instruction, caller, sessionId, signal, turn, lineage });
    },
  };
  const plugins = options.plugins.map((Plugin) => new Plugin({ logger: logger.child({ component: "plugin" }), settings: config.plugins.settings, agent }));
  const registry = new PluginRegistry(plugins, config.plugins.defaultTimeoutMs);
  const policy = PluginPolicy.create(plugins, config.pluginPolicy, config.auth.mode);
  const approvals = new ApprovalService({
    store: runStorage.store,
    index: runStorage.approvalIndex,
    queue: runStorage.queue,
    audit,
    policy,
    registry,
    logger: logger.child({ component: "approvals" }),
  });
  const runner = new PluginRunner(
    { registry, policy, memory: memory.store, audit, cache: memory.cache, logger, approvals },
    {
      defaultTimeoutMs: config.plugins.defaultTimeoutMs,
      maxConcurrency: config.plugins.maxConcurrency,
      maxConcurrencyPerPrincipal: config.plugins.maxConcurrencyPerPrincipal,
      maxQueue: config.plugins.maxQueue,
    },
  );
  conversation = model ? new Conversation(model, registry, policy, runner, audit, config.chat) : undefined;
  const runProcessor = new RunProcessor(
    {
      store: runStorage.store,
      results: runStorage.results,
      runner,
      logger: logger.child({ component: "plugin-runs" }),
      queueCaller,
      leaseMs: (plugin) => (registry.resolve(plugin)?.timeoutMs ?? config.plugins.defaultTimeoutMs) + runLeaseMarginMs,
    },
    { maxDequeueCount: config.runs.maxDequeueCount },
  );
  const runs = new RunService({
    runner,
    store: runStorage.store,
    results: runStorage.results,
    queue: runStorage.queue,
    logger,
    readableOwners: (caller) =>
      config.auth.mode !== "none" && caller.roles.includes("admin") ? [caller.principalKey, queueCaller.principalKey] : [caller.principalKey],
    approvals,
  });
  const chatLimits = { maxMessages: config.chat.historyMaxMessages, maxChars: config.chat.historyMaxChars, timeoutMs: config.chat.timeoutMs };
  return {
    config,
    logger,
    authenticator: createAuthenticator(config.auth, options.jwt),
    policy,
    rateLimiter: lazyRateLimiter(config.rateLimit, memory.redis, logger.child({ component: "rate-limit" })),
    memory: memory.store,
    audit,
    registry,
    runner,
    chat: new ChatService(memory.store, audit, runner, conversation, chatLimits, logger.child({ component: "chat" })),
    health: new HealthCheck(config.version, memory.store, storageProbe(config, storageClients), model, logger),
    runs,
    approvals,
    runProcessor,
    storageClients,
    close: async () => {
      await runner.shutdown();
      await memory.close();
    },
  };
}

/**
 * A delivery's claim on a run holds for the plugin's timeout plus this: time for the audit entry,
 * the result blob and the record, each with the storage SDK's retries.
 */
const runLeaseMarginMs = 30_000;

/** The rate limiter (rate-limiter-flexible), imported on the first POST that counts; none when the limit is off. */
function lazyRateLimiter(settings: RateLimitSettings, redis: (() => Promise<Redis>) | undefined, logger: Logger): RateLimiter {
  if (settings.perMinute <= 0) return { consume: async () => {} };
  return deferred<RateLimiter>(
    async () => {
      const [{ createRateLimiter }, client] = await Promise.all([import("./auth/rate_limiter.js"), redis?.()]);
      return createRateLimiter(settings, client, logger);
    },
    { consume: true },
  );
}

function tableAuditLog(storage: StorageConfig, tableName: string, credential: () => TokenCredential): AuditLog {
  return deferred<AuditLog>(
    async () => {
      const [{ TableAuditLog }, { createTableClients }] = await Promise.all([import("./audit/table_audit_log.js"), import("./azure/table_clients.js")]);
      return new TableAuditLog(createTableClients(storage, credential).table(tableName));
    },
    { append: true, appendTurn: true, list: true },
  );
}

/** Health's view of the tables, queue and container the app writes, their SDKs imported on the first health check. */
function storageProbe(config: AppConfig, clients: (() => Promise<StorageClients>) | undefined): StorageProbe {
  if (!clients) return { missing: () => Promise.reject(storageNotConfigured()) };
  return deferred<StorageProbe>(
    async () => {
      const [{ createStorageProbe }, storage] = await Promise.all([import("./azure/storage_probe.js"), clients()]);
      return createStorageProbe(storage, {
        auditTable: config.audit.tableName,
        runsTable: config.runs.tableName,
        runsQueue: config.runs.queueName,
        resultsContainer: config.runs.resultsContainer,
      });
    },
    { missing: true },
  );
}

/**
 * The runs table (with the approvals index in a partition of its own), the results container and
 * the runs queue, each with its SDK imported on its first call (the queue client on the first
 * asynchronous run); without storage, stand-ins that answer storage_unavailable.
 */
function createRunStorage(
  config: AppConfig,
  storage: StorageConfig | undefined,
  credential: () => TokenCredential,
): { store: RunStore; results: ResultStore; queue: RunQueue; approvalIndex: ApprovalIndex } {
  if (!storage) {
    const unconfigured = new UnconfiguredRunStorage();
    return { store: unconfigured, results: unconfigured, queue: unconfigured, approvalIndex: unconfigured };
  }
  return {
    store: deferred<RunStore>(
      async () => {
        const [{ TableRunStore }, { createTableClients }] = await Promise.all([import("./runs/table_run_store.js"), import("./azure/table_clients.js")]);
        return new TableRunStore(createTableClients(storage, credential).table(config.runs.tableName));
      },
      { get: true, create: true, replace: true, update: true, remove: true },
    ),
    approvalIndex: deferred<ApprovalIndex>(
      async () => {
        const [{ TableApprovalIndex }, { createTableClients }] = await Promise.all([
          import("./approvals/table_approval_index.js"),
          import("./azure/table_clients.js"),
        ]);
        return new TableApprovalIndex(createTableClients(storage, credential).table(config.runs.tableName));
      },
      { add: true, ownerOf: true, pending: true, unlist: true, release: true },
    ),
    results: deferred<ResultStore>(
      async () => {
        const [{ BlobResultStore }, { createBlobClients }] = await Promise.all([import("./runs/blob_result_store.js"), import("./azure/blob_clients.js")]);
        return new BlobResultStore(createBlobClients(storage, credential).blobContainer(config.runs.resultsContainer));
      },
      { write: true, read: true },
    ),
    queue: deferred<RunQueue>(
      async () => {
        const [{ StorageRunQueue }, { createQueueClients }] = await Promise.all([import("./runs/storage_run_queue.js"), import("./azure/queue_clients.js")]);
        return new StorageRunQueue(createQueueClients(storage, credential).queue(config.runs.queueName));
      },
      { send: true },
    ),
  };
}

/**
 * Session memory and the result cache share one store: Redis with Microsoft Entra ID in Azure,
 * Redis by URL locally, this process when neither is configured. The Redis client (ioredis, a
 * chunk of its own in the bundle) is imported and connected when the services are built, i.e. on
 * the first invocation, not when the bundle is loaded.
 */
function createStores(
  config: AppConfig,
  logger: Logger,
  credential: () => TokenCredential,
): { store: SessionMemory; cache: ResultCache; redis: (() => Promise<Redis>) | undefined; close(): Promise<void> } {
  const limits = { maxMessages: config.memory.maxMessages, ttlSeconds: config.memory.ttlSeconds };
  if (!config.memory.redisEntra && !config.memory.redisUrl) {
    const store = new InProcessSessionMemory(limits);
    return { store, cache: new InProcessResultCache(), redis: undefined, close: () => store.close() };
  }
  let created: RedisStores | undefined;
  const redis = memoize(async () => (created = (await import("./memory/redis_stores.js")).createRedisStores(config, logger, credential)));
  const loading = redis();
  // A failed import is reported by the first call that needs the store; nothing is left unhandled meanwhile.
  loading.catch(() => {});
  const store = deferred<SessionMemory>(async () => (await redis()).store, { append: true, recent: true, clear: true, ping: true, close: true });
  return {
    store: { ...store, kind: "redis" },
    cache: deferred<ResultCache>(async () => (await redis()).cache, { get: true, set: true }),
    redis: async () => (await redis()).redis,
    close: async () => {
      await loading.catch(() => undefined);
      await created?.close();
    },
  };
}
