/**
 * `npm start`: runs the app on port 7071 with whatever is configured and embedded defaults for
 * the rest. With Azure Functions Core Tools installed it runs `func start`; otherwise it serves
 * the same registered functions through the local host.
 */
import { spawn } from "node:child_process";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import { pluginClasses } from "../../plugins/index.js";
import { ConfigError, loadConfig, type AppConfig, type StorageConfig } from "../config/config.js";
import { createLogger, type Logger } from "../logging/logger.js";
import { createServices } from "../services.js";
import { startConfiguredTelemetry } from "../telemetry/configured_telemetry.js";
import type { EmbeddedAzurite } from "./embedded_azurite.js";
import { findExecutable } from "./find_executable.js";
import { startLocalHost } from "./local_host.js";
import { startQueueHost } from "./queue_host.js";

/** After the host has drained: what plugin shutdown (5 s each, in parallel) and closing the services may take before the process ends anyway. */
const closeBudgetMs = 15_000;

async function main(environment: NodeJS.ProcessEnv, argv: readonly string[]): Promise<void> {
  const config = loadConfig(environment);
  // The local host traces like the Functions host when APPLICATIONINSIGHTS_CONNECTION_STRING is set.
  const telemetry = await startConfiguredTelemetry(config.telemetry);
  const logger = createLogger(config.logLevel);
  if (telemetry.enabled) logger.info("telemetry: exporting traces and logs to Application Insights (APPLICATIONINSIGHTS_CONNECTION_STRING)");
  const embedded = await embeddedStorage(config, logger);
  const storage: StorageConfig = config.storage ?? { kind: "connectionString", connectionString: embedded!.connectionString };
  warnIfUnauthenticated(config, logger);
  if (!config.memory.redisUrl) {
    logger.info("session memory: REDIS_URL is not set, using in-process memory (kept only while this process runs)");
  }
  const llm = config.llm;
  logger.info(
    llm.provider === "none"
      ? "chat: no language model configured (OLLAMA_BASE_URL or AZURE_OPENAI_ENDPOINT), free text answers llm_unavailable; /run works"
      : `chat: ${llm.provider === "ollama" ? `Ollama model ${llm.model}` : `Azure OpenAI deployment ${llm.deployment}`}`,
  );

  const func = argv.includes("--local") ? undefined : findExecutable("func", environment.PATH);
  if (func) {
    logger.info(`starting the Functions host: ${func} start --port ${config.port}`);
    const child = spawn(func, ["start", "--port", String(config.port)], {
      stdio: "inherit",
      env: embedded ? { ...environment, STORAGE_CONNECTION_STRING: embedded.connectionString, AzureWebJobsStorage: embedded.connectionString } : environment,
    });
    const stop = (signal: NodeJS.Signals) => child.kill(signal);
    process.once("SIGINT", stop).once("SIGTERM", stop);
    child.on("exit", async (code) => {
      await embedded?.close();
      process.exit(code ?? 0);
    });
    return;
  }

  const services = createServices(config, { plugins: pluginClasses, storage, logger });
  // Under `func start` the Functions host runs the queue triggers; here the local host polls the queues itself.
  // Started first: once the HTTP port answers, everything (and the signal handlers below) is in place.
  const queues = await startQueueHost({ functions: queueFunctions, services });
  const host = await startLocalHost({ functions: httpFunctions, services, port: config.port, hostname: config.host });
  logger.info(`listening on ${host.url}/api (local host: Azure Functions Core Tools is not installed)`);
  for (const fn of httpFunctions) logger.info(`  ${fn.methods.join(",")} ${host.url}/api/${fn.route}`);
  for (const fn of queueFunctions) {
    logger.info(
      `  queue ${fn.queueName(config)} → ${fn.name} (polled every ${config.runs.pollIntervalMs} ms; poison queue ${fn.queueName(config)}-poison after ${config.runs.maxDequeueCount} deliveries)`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const graceMs = config.http.shutdownGraceMs;
    logger.info(`${signal} received, shutting down: no new connections, requests in flight may finish within ${graceMs} ms (SHUTDOWN_GRACE_MS)`);
    // Requests and queue deliveries first (the queue takes no new messages either): they still need the plugins and services closed below.
    const [{ cut }] = await Promise.all([host.close({ graceMs }), queues.stop()]);
    if (cut > 0)
      logger.error(`shutdown: ${cut} request${cut === 1 ? "" : "s"} cut, still running when the grace period (SHUTDOWN_GRACE_MS=${graceMs}) ran out`);
    else logger.info("shutdown: every request received was answered");
    // Whatever does not finish in time now is abandoned: the process must end.
    const deadline = setTimeout(() => {
      logger.error(`shutdown: plugins and services did not close within ${closeBudgetMs} ms, exiting anyway`);
      process.exit(1);
    }, closeBudgetMs);
    deadline.unref();
    await services.close();
    await embedded?.close();
    await telemetry.shutdown();
    process.exit(cut > 0 ? 1 : 0);
  };
  process.once("SIGINT", () => void stop("SIGINT")).once("SIGTERM", () => void stop("SIGTERM"));
}

function warnIfUnauthenticated(config: AppConfig, logger: Logger): void {
  if (config.auth.mode !== "none") return;
  logger.warn(
    `AUTH_MODE is none: every caller is the one principal "anonymous", with access to every session of it; for local use on ${config.host} only (set AUTH_MODE=jwt or easyauth to authenticate callers)`,
  );
}

async function embeddedStorage(config: AppConfig, logger: Logger): Promise<EmbeddedAzurite | undefined> {
  if (config.storage) return undefined;
  // Loaded only here: a host with storage configured never reads it.
  const { startEmbeddedAzurite } = await import("./embedded_azurite.js");
  const azurite = await startEmbeddedAzurite();
  logger.info(
    `storage: STORAGE_CONNECTION_STRING is not set, started Azurite in this process (in memory; blob ${azurite.ports.blob}, queue ${azurite.ports.queue}, table ${azurite.ports.table})`,
  );
  return azurite;
}

main(process.env, process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(`start failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.exit(1);
});
