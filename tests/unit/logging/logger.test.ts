import { describe, expect, it } from "vitest";
import { createLogger, type LogLevel } from "../../../src/logging/logger.js";

function capture(level: LogLevel = "debug") {
  const lines: { level: LogLevel; line: string }[] = [];
  const logger = createLogger(level, (at, line) => lines.push({ level: at, line }), {}, { now: () => new Date("2026-01-02T03:04:05.678Z") });
  return { logger, lines };
}

describe("logger", () => {
  it("starts every line with an ISO timestamp and the level, then the message and the fields as JSON", () => {
    const { logger, lines } = capture();
    logger.info("plugin ran", { plugin: "echo", durationMs: 3 });
    expect(lines).toEqual([{ level: "info", line: '2026-01-02T03:04:05.678Z [info] plugin ran {"plugin":"echo","durationMs":3}' }]);
  });

  it("writes the real time when no clock is given", () => {
    const lines: string[] = [];
    const before = Date.now();
    createLogger("info", (_level, line) => lines.push(line)).info("now");
    const stamp = Date.parse(lines[0]!.split(" ")[0]!);
    expect(lines[0]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[info\] now$/);
    expect(stamp).toBeGreaterThanOrEqual(before - 1);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });

  it("drops records below its level and merges a child's fields", () => {
    const { logger, lines } = capture("info");
    logger.debug("hidden");
    logger.child({ function: "chat", invocationId: "abc" }).warn("slow", { ms: 5 });
    expect(lines.map((l) => l.line)).toEqual(['2026-01-02T03:04:05.678Z [warn] slow {"function":"chat","invocationId":"abc","ms":5}']);
    expect(lines[0]!.level).toBe("warn");
  });
});
