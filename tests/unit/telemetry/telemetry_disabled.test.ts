import { trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
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
});
