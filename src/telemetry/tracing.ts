import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import { AppError } from "../errors/app_error.js";

/**
 * The app's own spans. Instrumentations patch modules as Node loads them from node_modules, and
 * the esbuild bundle loads none of ours from there, so the spans that matter (requests, plugin
 * runs, model calls, Redis and storage calls) are made here, by the code itself, in both hosts.
 *
 * The tracer comes from @opentelemetry/api's global provider because that is where
 * startTelemetry registers its provider (src/telemetry/telemetry.ts); it is looked up per span,
 * since telemetry starts after modules are loaded and a tracer taken earlier would stay a no-op.
 * Without telemetry no span is made at all (spansRecorded): the API's no-op tracer would still
 * allocate a span and a context per call, on every request, to record nothing.
 */
const tracerName = "codexcontinue-functions";

/** Whether startTelemetry has registered a provider that records spans. */
let spansRecorded = false;

/** Called by startTelemetry when its provider is registered (true) and when it has shut down (false). */
export function recordSpans(on: boolean): void {
  spansRecorded = on;
}

/** What `work` gets as its span while nothing records: attributes and status set on it go nowhere. */
const unrecordedSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

export function tracer(): Tracer {
  return trace.getTracer(tracerName);
}

/** The outcome attribute of a failed operation: its stable error code, or `internal_error` for anything else. */
export function outcomeOf(error: unknown): string {
  return error instanceof AppError ? error.code : "internal_error";
}

/**
 * Runs `work` in a new active span and ends it when `work` settles. A throw marks the span as an
 * error with the error's code only: an exception's message may carry what the caller sent.
 */
export function inSpan<T>(name: string, options: { kind?: SpanKind; attributes?: Attributes; parent?: Context }, work: (span: Span) => Promise<T>): Promise<T> {
  if (!spansRecorded) {
    try {
      return work(unrecordedSpan);
    } catch (error) {
      // As with a span: a throw before the first await still arrives as a rejection.
      return Promise.reject(error);
    }
  }
  const parent = options.parent ?? context.active();
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: outcomeOf(error) });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The context an incoming trace continues: the Functions host's own (`InvocationContext.traceContext`,
 * whose span is the invocation the host records), else a W3C `traceparent` header (the local host's
 * callers), else a new trace.
 */
export function incomingContext(
  traceContext: { traceParent?: string | null | undefined; traceState?: string | null | undefined } | undefined,
  headers?: { get(name: string): string | null },
): Context {
  const traceparent = traceContext?.traceParent ?? headers?.get("traceparent") ?? undefined;
  if (!traceparent) return ROOT_CONTEXT;
  const tracestate = traceContext?.traceParent ? (traceContext.traceState ?? undefined) : (headers?.get("tracestate") ?? undefined);
  const carrier: Record<string, string> = { traceparent };
  if (tracestate) carrier.tracestate = tracestate;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

type StorageService = "table" | "blob" | "queue";

/** Which storage call a storage span stands for; names and endpoints only, never keys or values. */
export interface StorageDependency {
  readonly service: StorageService;
  /** The SDK operation, e.g. `createEntity`, `submitTransaction`, `upload`, `sendMessage`. */
  readonly operation: string;
  /** The table, container or queue. */
  readonly resource: string;
  /** The account endpoint's URL; its host name becomes the dependency's target. */
  readonly endpoint?: string | undefined;
}

// Application Insights' classic dependency types, so that the application map and the
// dependency views show tables, blobs and queues as such (the exporter maps db.system to the type).
const dependencyType: Record<StorageService, string> = { table: "Azure table", blob: "Azure blob", queue: "Azure queue" };
const spanPrefix: Record<StorageService, string> = { table: "Table", blob: "Blob", queue: "Queue" };

/** A CLIENT span around one storage call, e.g. `Table createEntity`, with `db.system`, `db.name`, `db.operation` and `server.address`. */
export function storageSpan<T>(dependency: StorageDependency, work: () => Promise<T>): Promise<T> {
  const attributes: Attributes = {
    "db.system": dependencyType[dependency.service],
    "db.name": dependency.resource,
    "db.operation": dependency.operation,
  };
  const host = hostOf(dependency.endpoint);
  if (host) attributes["server.address"] = host;
  return inSpan(`${spanPrefix[dependency.service]} ${dependency.operation}`, { kind: SpanKind.CLIENT, attributes }, () => work());
}

/** A CLIENT span around one Redis round trip, named by command (`redis LRANGE`); keys and values stay out. */
export function redisSpan<T>(command: string, work: () => Promise<T>, target?: string): Promise<T> {
  const attributes: Attributes = { "db.system": "redis", "db.operation": command };
  if (target) attributes["server.address"] = target;
  return inSpan(`redis ${command}`, { kind: SpanKind.CLIENT, attributes }, () => work());
}

function hostOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  try {
    return new URL(endpoint).host;
  } catch {
    return undefined;
  }
}
