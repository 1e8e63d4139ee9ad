import type { TokenCredential } from "@azure/identity";
import type { AuditLog } from "./audit/audit_event.js";
import { InProcessResultCache, RedisResultCache, type ResultCache } from "./cache/result_cache.js";
import { TableAuditLog } from "./audit/table_audit_log.js";
import { UnconfiguredAuditLog } from "./audit/unconfigured_audit_log.js";
import { createAzureCredential, createStorageClients } from "./azure/storage_clients.js";
import { ChatService } from "./chat/chat_service.js";
import { Conversation } from "./chat/conversation.js";
import { AppError } from "./errors/app_error.js";
import type { ChatModel } from "./llm/chat_model.js";
import { createChatModel } from "./llm/create_chat_model.js";
import type { AppConfig, StorageConfig } from "./config/config.js";
import { HealthCheck } from "./health/health_check.js";
import { createLogger, type Logger } from "./logging/logger.js";
import { InProcessSessionMemory } from "./memory/in_process_session_memory.js";
import { createRedisClient } from "./memory/redis_client.js";
import { RedisSessionMemory } from "./memory/redis_session_memory.js";
import type { SessionMemory } from "./memory/session_memory.js";
import type { AgentRunner, PluginClass } from "./plugins/plugin.js";
import { PluginExecution } from "./plugins/plugin_execution.js";
import { PluginRegistry } from "./plugins/plugin_registry.js";
import { PluginRunner } from "./plugins/plugin_runner.js";

/** Everything a function handler, the local host or the CLI needs; built once per process. */
export interface Services {
  readonly config: AppConfig;
  readonly logger: Logger;
  readonly memory: SessionMemory;
  readonly audit: AuditLog;
  readonly registry: PluginRegistry;
  readonly runner: PluginRunner;
  readonly execution: PluginExecution;
  readonly chat: ChatService;
  readonly health: HealthCheck;
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
}

export function createServices(config: AppConfig, options: ServiceOptions): Services {
  const logger = options.logger ?? createLogger(config.logLevel);
  const memory = createStores(config, logger);
  let credential: TokenCredential | undefined;
  const lazyCredential = () => (credential ??= createAzureCredential(config.azure.clientId));
  const audit =
    options.audit ??
    (options.storage
      ? new TableAuditLog(createStorageClients(options.storage, lazyCredential).table(config.audit.tableName))
      : new UnconfiguredAuditLog());
  const model = options.chatModel ?? createChatModel(config.llm, lazyCredential, logger);
  // The agent plugin needs the conversation, which needs the plugins: bound once both exist.
  let conversation: Conversation | undefined;
  const agent: AgentRunner = {
    run: async (instruction, { sessionId, signal }) => {
      if (!conversation) throw new AppError("llm_unavailable", "no language model is configured");
      const turns = conversation.run({ history: [], message: instruction, sessionId, excludeTools: ["agent"], stream: false, signal });
      for (;;) {
        const next = await turns.next();
        if (next.done) return next.value;
      }
    },
  };
  const plugins = options.plugins.map(
    (Plugin) => new Plugin({ logger: logger.child({ component: "plugin" }), settings: config.plugins.settings, agent }),
  );
  const registry = new PluginRegistry(plugins, config.plugins.defaultTimeoutMs);
  const runner = new PluginRunner(
    { registry, memory: memory.store, audit, cache: memory.cache, logger },
    { defaultTimeoutMs: config.plugins.defaultTimeoutMs, maxConcurrency: config.plugins.maxConcurrency, maxQueue: config.plugins.maxQueue },
  );
  const execution = new PluginExecution(runner, audit);
  conversation = model ? new Conversation(model, registry, execution, audit, config.chat) : undefined;
  const chatLimits = { maxMessages: config.chat.historyMaxMessages, maxChars: config.chat.historyMaxChars, timeoutMs: config.chat.timeoutMs };
  return {
    config,
    logger,
    memory: memory.store,
    audit,
    registry,
    runner,
    execution,
    chat: new ChatService(memory.store, audit, runner, execution, conversation, chatLimits),
    health: new HealthCheck(config.version, memory.store, audit, model, logger),
    close: async () => {
      await runner.shutdown();
      await memory.store.close();
    },
  };
}

/** Session memory and the result cache share one store: Redis when configured, this process otherwise. */
function createStores(config: AppConfig, logger: Logger): { store: SessionMemory; cache: ResultCache } {
  const limits = { maxMessages: config.memory.maxMessages, ttlSeconds: config.memory.ttlSeconds };
  if (!config.memory.redisUrl) return { store: new InProcessSessionMemory(limits), cache: new InProcessResultCache() };
  const redis = createRedisClient(config.memory.redisUrl, logger);
  return {
    store: new RedisSessionMemory(redis, limits, config.memory.keyPrefix),
    cache: new RedisResultCache(redis, config.plugins.cacheKeyPrefix),
  };
}
