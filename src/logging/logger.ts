import { isSpanContextValid, trace } from "@opentelemetry/api";
import { logs, SeverityNumber, type LogAttributes } from "@opentelemetry/api-logs";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (level: LogLevel, line: string) => void;

/** Writes through console so that the Functions host forwards records to Application Insights. */
const consoleSink: LogSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
};

export interface LoggerOptions {
  /** The time a record is written; replaced by tests. */
  readonly now?: () => Date;
}

const severity: Record<LogLevel, SeverityNumber> = {
  debug: SeverityNumber.DEBUG,
  info: SeverityNumber.INFO,
  warn: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
};

/**
 * One line per record: an ISO timestamp, the level and the message first, so that a person
 * reading a terminal can follow it, then the fields as JSON for whoever searches the logs. Inside
 * a span the fields carry its `traceId` and `spanId`, so a line can be found in the trace.
 *
 * Every record also goes to OpenTelemetry's log API, which is a no-op until telemetry starts
 * (src/telemetry/telemetry.ts); then it reaches Application Insights correlated to the active
 * trace, with the invocation id where the logger carries one.
 */
export function createLogger(level: LogLevel, sink: LogSink = consoleSink, base: LogFields = {}, options: LoggerOptions = {}): Logger {
  const now = options.now ?? (() => new Date());
  const write = (at: LogLevel, message: string, fields?: LogFields): void => {
    if (rank[at] < rank[level]) return;
    const all: LogFields = { ...base, ...fields };
    const span = trace.getActiveSpan()?.spanContext();
    if (span && isSpanContextValid(span)) {
      all.traceId = span.traceId;
      all.spanId = span.spanId;
    }
    const suffix = Object.keys(all).length > 0 ? ` ${safeJson(all)}` : "";
    sink(at, `${now().toISOString()} [${at}] ${message}${suffix}`);
    // The trace and span ids come from the active context the SDK reads itself.
    const { traceId: _traceId, spanId: _spanId, ...attributes } = all;
    logs.getLogger(otelLoggerName).emit({ severityNumber: severity[at], severityText: at.toUpperCase(), body: message, attributes: toAttributes(attributes) });
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(level, sink, { ...base, ...fields }, options),
  };
}

const otelLoggerName = "codexcontinue-functions";

/** Log attributes are flat: nested values as JSON text, the invocation id under its OpenTelemetry name too. */
function toAttributes(fields: LogFields): LogAttributes {
  const attributes: LogAttributes = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    attributes[key] = typeof value === "string" || typeof value === "number" || typeof value === "boolean" ? value : safeJson(value);
  }
  if (typeof fields.invocationId === "string") attributes["faas.invocation_id"] = fields.invocationId;
  return attributes;
}

export const silentLogger: Logger = createLogger("error", () => {});

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return '"<unserialisable fields>"';
  }
}
