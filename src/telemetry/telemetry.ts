import { ManagedIdentityCredential, type TokenCredential } from "@azure/identity";
import { shutdownAzureMonitor, useAzureMonitor, type AzureMonitorOpenTelemetryOptions } from "@azure/monitor-opentelemetry";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TelemetryConfig } from "../config/config.js";

/** The process's telemetry: started once from the configuration, flushed and stopped at shutdown. */
export interface Telemetry {
  /** False when APPLICATIONINSIGHTS_CONNECTION_STRING is not set: nothing was started and spans are no-ops. */
  readonly enabled: boolean;
  /** Exports what is buffered; bounded in time, never throws. */
  shutdown(): Promise<void>;
}

export interface TelemetryOptions {
  /** More span processors beside Azure Monitor's; tests add one with an in-memory exporter. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Replaces the managed identity; for tests. */
  readonly credential?: TokenCredential;
  /** Records every trace instead of Azure Monitor's default of 5 traces a second; for tests, which must not lose a span to the rate. */
  readonly sampleEverything?: boolean;
}

const disabled: Telemetry = { enabled: false, shutdown: async () => {} };
const shutdownBudgetMs = 5000;

let started: Telemetry | undefined;

/**
 * Starts OpenTelemetry with the Azure Monitor exporter, once per process (useAzureMonitor
 * registers global providers; a second start would replace them). Later calls return the first
 * one's handle. Without a connection string it starts nothing.
 */
export function startTelemetry(config: TelemetryConfig | undefined, options: TelemetryOptions = {}): Telemetry {
  if (!config) return disabled;
  if (started) return started;
  useAzureMonitor(azureMonitorOptions(config, options));
  let stopping: Promise<void> | undefined;
  started = {
    enabled: true,
    shutdown: () =>
      (stopping ??= Promise.race([
        shutdownAzureMonitor()?.catch(() => undefined) ?? Promise.resolve(),
        // An unreachable ingestion endpoint must not hold the process past its own shutdown budget.
        new Promise<void>((resolve) => setTimeout(resolve, shutdownBudgetMs).unref()),
      ]).then(() => {
        started = undefined;
      })),
  };
  return started;
}

export function azureMonitorOptions(config: TelemetryConfig, options: TelemetryOptions): AzureMonitorOpenTelemetryOptions {
  const credential =
    options.credential ??
    // Application Insights in infra/ has local authentication disabled: the instrumentation key alone is refused.
    (config.authentication.kind === "managedIdentity"
      ? config.authentication.clientId
        ? new ManagedIdentityCredential({ clientId: config.authentication.clientId })
        : new ManagedIdentityCredential()
      : undefined);
  return {
    azureMonitorExporterOptions: { connectionString: config.connectionString, ...(credential ? { credential } : {}) },
    // The bundle loads no instrumented module from node_modules, so these would patch nothing in
    // Azure; off, they also cannot add spans when the sources run unbundled (tests, tsx) that the
    // deployed app would not have. The app makes its own (src/telemetry/tracing.ts).
    instrumentationOptions: {
      http: { enabled: false },
      azureSdk: { enabled: false },
      redis: { enabled: false },
      redis4: { enabled: false },
      mongoDb: { enabled: false },
      mySql: { enabled: false },
      postgreSql: { enabled: false },
      bunyan: { enabled: false },
      winston: { enabled: false },
    },
    enableLiveMetrics: false,
    ...(options.sampleEverything ? { samplingRatio: 1, tracesPerSecond: 0 } : {}),
    spanProcessors: [...(options.spanProcessors ?? [])],
  };
}
