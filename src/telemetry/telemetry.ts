import type { TokenCredential } from "@azure/identity";
import type { AzureMonitorExporterOptions } from "@azure/monitor-opentelemetry-exporter";
import { context, propagation, trace } from "@opentelemetry/api";
import { logs } from "@opentelemetry/api-logs";
// The context manager from its own file: the package is CommonJS only, so its index would bring the
// older AsyncHooksContextManager (unused) into the telemetry every cold start reads.
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks/build/src/AsyncLocalStorageContextManager.js";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { azureAppServiceDetector, azureFunctionsDetector } from "@opentelemetry/resource-detector-azure";
import { defaultResource, detectResources, envDetector, type Resource } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider, type ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { AlwaysOnSampler, BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type Sampler, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { TelemetryConfig } from "../config/config.js";
import { memoize } from "../lazy/deferred.js";
import { connectionStringProblem } from "./connection_string.js";
import { exporterOnFirstExport } from "./exporter_on_first_export.js";
import { RateLimitedSampler } from "./rate_limited_sampler.js";
import { telemetryDisabled, type Telemetry } from "./telemetry_handle.js";
import { recordSpans } from "./tracing.js";

export interface TelemetryOptions {
  /** More span processors beside Azure Monitor's; tests add one with an in-memory exporter. */
  readonly spanProcessors?: readonly SpanProcessor[];
  /** Replaces the managed identity; for tests. */
  readonly credential?: TokenCredential;
  /** Records every trace instead of Azure Monitor's default of 5 traces a second; for tests, which must not lose a span to the rate. */
  readonly sampleEverything?: boolean;
}

const shutdownBudgetMs = 5000;
/** Azure Monitor's default rate limit (the @azure/monitor-opentelemetry distro's `tracesPerSecond`). */
const tracesPerSecond = 5;

let started: Telemetry | undefined;

/**
 * Starts OpenTelemetry with the Azure Monitor exporters, once per process (it registers the global
 * tracer and logger providers; a second start would replace them). Later calls return the first
 * one's handle. Without a connection string it starts nothing; with one that Azure Monitor's
 * exporter would refuse, it throws, so that the start fails.
 *
 * Only what the app uses is set up: a tracer provider (the app makes its own spans,
 * src/telemetry/tracing.ts) and a logger provider (src/logging/logger.ts, and `context.log`
 * through the Functions instrumentation), each with a batch processor in front of its Azure
 * Monitor exporter, the async-hooks context manager and the W3C propagators. The distro
 * (@azure/monitor-opentelemetry) would also load the whole OpenTelemetry Node SDK, metrics with
 * live metrics, a dozen instrumentations that patch nothing in the bundle, and ask the Azure VM
 * metadata service for a resource at every start; that made up most of a cold start with
 * telemetry (bench/README.md, "Cold start"). The exporters themselves are loaded on their first
 * export (`exporterOnFirstExport`), seconds after the first span or log record.
 */
export function startTelemetry(config: TelemetryConfig | undefined, options: TelemetryOptions = {}): Telemetry {
  if (!config) return telemetryDisabled;
  if (started) return started;
  const problem = connectionStringProblem(config.connectionString);
  if (problem) throw new Error(problem);
  const exporterOptions = azureMonitorExporterOptions(config, options);
  const resource = telemetryResource();
  const traceExporter = exporterOnFirstExport<ReadableSpan>(async () => new (await azureMonitorExporters()).AzureMonitorTraceExporter(exporterOptions));
  const logExporter = exporterOnFirstExport<ReadableLogRecord>(async () => new (await azureMonitorExporters()).AzureMonitorLogExporter(exporterOptions));
  const tracerProvider = new BasicTracerProvider({
    resource,
    sampler: traceSampler(options),
    // The distro's batching for traces; the in-memory processors of tests come first, as there.
    spanProcessors: [
      ...(options.spanProcessors ?? []),
      new BatchSpanProcessor(traceExporter, { maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000, maxQueueSize: 2048 }),
    ],
  });
  const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logExporter })] });
  // Providers registered by anything earlier would stay in front of these.
  trace.disable();
  logs.disable();
  context.disable();
  propagation.disable();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }));
  trace.setGlobalTracerProvider(tracerProvider);
  logs.setGlobalLoggerProvider(loggerProvider);
  recordSpans(true);
  let stopping: Promise<void> | undefined;
  started = {
    enabled: true,
    shutdown: () =>
      (stopping ??= Promise.race([
        // Each provider's shutdown flushes its batch processor through the exporter first.
        Promise.all([tracerProvider.shutdown().catch(() => undefined), loggerProvider.shutdown().catch(() => undefined)]),
        // An unreachable ingestion endpoint must not hold the process past its own shutdown budget.
        new Promise<void>((resolve) => setTimeout(resolve, shutdownBudgetMs).unref()),
      ]).then(() => {
        recordSpans(false);
        started = undefined;
      })),
  };
  return started;
}

/**
 * @azure/monitor-opentelemetry-exporter's exporters, a chunk of their own in the bundle with what
 * they import (Azure's HTTP pipeline, the metrics SDK for their usage statistics): read by the
 * first export instead of at start (bench/README.md, "Cold start"). The sampler, which every span
 * needs at once, is imported statically (rate_limited_sampler.ts).
 */
const azureMonitorExporters = () => import("./azure_monitor_exporters.js");

function azureMonitorExporterOptions(config: TelemetryConfig, options: Pick<TelemetryOptions, "credential">): AzureMonitorExporterOptions {
  const credential =
    options.credential ??
    // Application Insights in infra/ has local authentication disabled: the instrumentation key alone is refused.
    (config.authentication.kind === "managedIdentity" ? managedIdentityOnFirstToken(config.authentication.clientId) : undefined);
  return { connectionString: config.connectionString, ...(credential ? { credential } : {}) };
}

/**
 * The managed identity the exporter authenticates with, loaded when the exporter first asks for a
 * token (its first export, seconds after start) instead of with telemetry: @azure/identity and
 * MSAL are the largest part of what telemetry would otherwise add to every cold start
 * (bench/README.md). One credential per process; a failed load is tried again on the next token.
 */
export function managedIdentityOnFirstToken(clientId: string | undefined): TokenCredential {
  const credential = memoize(async (): Promise<TokenCredential> => {
    const { ManagedIdentityCredential } = await import("@azure/identity");
    return clientId ? new ManagedIdentityCredential({ clientId }) : new ManagedIdentityCredential();
  });
  return { getToken: async (scopes, options) => (await credential()).getToken(scopes, options) };
}

/**
 * What the distro samples with by default: at most 5 traces a second (Application Insights'
 * rate-limited sampler, which records the rate on each item so that counts stay estimable).
 */
function traceSampler(options: TelemetryOptions): Sampler {
  return options.sampleEverything ? new AlwaysOnSampler() : new RateLimitedSampler(tracesPerSecond);
}

/**
 * The resource as the distro builds it for App Service and Functions: the SDK's defaults,
 * OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES, then Azure's detectors, which read the platform's
 * settings (WEBSITE_SITE_NAME becomes `service.name`, the cloud role in Application Insights; the
 * role instance is the host name, as the exporter defaults it). All synchronous: no request at
 * start, unlike the distro's Azure VM detector, which does not apply to Functions.
 */
function telemetryResource(): Resource {
  return defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(detectResources({ detectors: [azureAppServiceDetector, azureFunctionsDetector] }));
}
