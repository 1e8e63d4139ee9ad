import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { memoize } from "../lazy/deferred.js";

/**
 * An exporter as the OpenTelemetry SDKs' batch processors call it: the trace SDK's SpanExporter
 * (of spans) and the log SDK's LogRecordExporter (of log records) both have this shape.
 */
export interface Exporter<Item> {
  export(items: Item[], resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
  forceFlush?(): Promise<void>;
}

/**
 * An exporter that builds the real one (`load`) on its first `export()` and forwards to it. The
 * batch processors call `export()` only after their scheduled delay or when a batch is full, never
 * on the request path, so whatever the real exporter needs (the Azure Monitor exporter, its HTTP
 * pipeline, the metrics SDK for its statistics) is read then instead of at every cold start, and
 * every item from the first one on is still exported.
 *
 * A load that fails fails that batch (the processor reports it, as any failed export) and is tried
 * again on the next. Shutting down or flushing an exporter that was never loaded loads nothing;
 * after `shutdown()` an export fails at once, as the real exporters' do.
 */
export function exporterOnFirstExport<Item>(load: () => Promise<Exporter<Item>>): Exporter<Item> & { forceFlush(): Promise<void> } {
  const exporter = memoize(load);
  // The latest load an export asked for; undefined while nothing was ever exported.
  let loading: Promise<Exporter<Item>> | undefined;
  let shutDown = false;
  const loaded = async () => loading?.catch(() => undefined);
  return {
    export(items, resultCallback) {
      if (shutDown) {
        resultCallback({ code: ExportResultCode.FAILED, error: new Error("the exporter is shut down") });
        return;
      }
      loading = exporter();
      loading.then(
        (real) => {
          try {
            real.export(items, resultCallback);
          } catch (error) {
            resultCallback(failed(error));
          }
        },
        (error: unknown) => resultCallback(failed(error)),
      );
    },
    async forceFlush() {
      await (await loaded())?.forceFlush?.();
    },
    async shutdown() {
      shutDown = true;
      await (await loaded())?.shutdown();
    },
  };
}

function failed(error: unknown): ExportResult {
  return { code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) };
}
