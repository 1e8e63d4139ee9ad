import { trace } from "@opentelemetry/api";
import { describe, expect, it, vi } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { createLogger } from "../../../src/logging/logger.js";
import { startTelemetry } from "../../../src/telemetry/telemetry.js";
import { inSpan, tracer } from "../../../src/telemetry/tracing.js";

describe("telemetry without APPLICATIONINSIGHTS_CONNECTION_STRING", () => {
  it("starts nothing: spans do not record and log lines carry no trace ids", async () => {
    const config = loadConfig({});
    expect(config.telemetry).toBeUndefined();
    const telemetry = startTelemetry(config.telemetry);
    expect(telemetry.enabled).toBe(false);
    expect(tracer().startSpan("anything").isRecording()).toBe(false);
    const lines: string[] = [];
    const logger = createLogger("info", (_level, line) => lines.push(line));
    await inSpan("request", {}, async () => logger.info("inside"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toMatch(/traceId/);
    expect(trace.getActiveSpan()).toBeUndefined();
  });

  it("runs the work of a span without making one, and still reports a throw as a rejection", async () => {
    startTelemetry(undefined);
    // No tracer is even asked for: the no-op one would still make a span and a context per call.
    const getTracer = vi.spyOn(trace, "getTracer");
    const seen = await inSpan("request", {}, async (span) => ({
      recording: span.isRecording(),
      valid: span.spanContext().traceId !== "00000000000000000000000000000000",
      active: trace.getActiveSpan(),
    }));
    expect(seen).toEqual({ recording: false, valid: false, active: undefined });
    const thrown = inSpan("request", {}, () => {
      throw new Error("before any await");
    });
    await expect(thrown).rejects.toThrow("before any await");
    expect(getTracer).not.toHaveBeenCalled();
    getTracer.mockRestore();
  });
});
