import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { describe, expect, it } from "vitest";
import { exporterOnFirstExport } from "../../../src/telemetry/exporter_on_first_export.js";

/** The real exporter stands for Azure Monitor's: an in-memory exporter, counted as it is built. */
function counted(options: { failFirst?: number } = {}) {
  const built: InMemorySpanExporter[] = [];
  let failures = options.failFirst ?? 0;
  const load = async () => {
    if (failures > 0) {
      failures--;
      throw new Error("chunk could not be read");
    }
    const real = new InMemorySpanExporter();
    built.push(real);
    return real;
  };
  return { built, load };
}

function exportOnce(exporter: { export(items: ReadableSpan[], cb: (result: ExportResult) => void): void }, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

function someSpans(count: number): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] });
  for (let i = 0; i < count; i++) provider.getTracer("test").startSpan(`span ${i}`).end();
  return memory.getFinishedSpans();
}

describe("an exporter loaded on its first export", () => {
  it("builds nothing until the first export, then hands every batch and its result to the one it built", async () => {
    const { built, load } = counted();
    const exporter = exporterOnFirstExport(load);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(built).toHaveLength(0);

    const [first, second] = await Promise.all([exportOnce(exporter, someSpans(2)), exportOnce(exporter, someSpans(1))]);
    expect(first.code).toBe(ExportResultCode.SUCCESS);
    expect(second.code).toBe(ExportResultCode.SUCCESS);
    expect(built).toHaveLength(1);
    expect(built[0]!.getFinishedSpans().map((span) => span.name)).toEqual(["span 0", "span 1", "span 0"]);

    // The real exporter's own result comes through: this one fails once it is shut down.
    await built[0]!.shutdown();
    expect((await exportOnce(exporter, someSpans(1))).code).toBe(ExportResultCode.FAILED);
    expect(built).toHaveLength(1);
  });

  it("fails the batch whose load failed, with the load's error, and loads again for the next", async () => {
    const { built, load } = counted({ failFirst: 1 });
    const exporter = exporterOnFirstExport(load);
    const failed = await exportOnce(exporter, someSpans(1));
    expect(failed.code).toBe(ExportResultCode.FAILED);
    expect(failed.error?.message).toBe("chunk could not be read");
    expect(built).toHaveLength(0);

    expect((await exportOnce(exporter, someSpans(1))).code).toBe(ExportResultCode.SUCCESS);
    expect(built).toHaveLength(1);
    expect(built[0]!.getFinishedSpans()).toHaveLength(1);
  });

  it("flushes and shuts down without loading anything when nothing was exported, and then refuses exports", async () => {
    const { built, load } = counted();
    const exporter = exporterOnFirstExport(load);
    await exporter.forceFlush();
    await exporter.shutdown();
    expect(built).toHaveLength(0);
    const refused = await exportOnce(exporter, someSpans(1));
    expect(refused.code).toBe(ExportResultCode.FAILED);
    expect(built).toHaveLength(0);
  });

  it("shuts down the exporter it built", async () => {
    const { built, load } = counted();
    const exporter = exporterOnFirstExport(load);
    await exportOnce(exporter, someSpans(1));
    await exporter.shutdown();
    // InMemorySpanExporter forgets its spans when shut down.
    expect(built[0]!.getFinishedSpans()).toHaveLength(0);
    expect((await exportOnce(exporter, someSpans(1))).code).toBe(ExportResultCode.FAILED);
  });

  it("behind the SDK's batch processor: spans ended before any export reach the exporter built on the flush", async () => {
    const { built, load } = counted();
    const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporterOnFirstExport(load), { scheduledDelayMillis: 60_000 })] });
    const tracer = provider.getTracer("test");
    tracer.startSpan("request").end();
    tracer.startSpan("plugin run").end();
    expect(built).toHaveLength(0);
    await provider.forceFlush();
    expect(built).toHaveLength(1);
    expect(built[0]!.getFinishedSpans().map((span) => span.name)).toEqual(["request", "plugin run"]);
    await provider.shutdown();
  });
});
