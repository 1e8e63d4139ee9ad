import { describe, it, expect } from "vitest";
import { createRowKeyFactory, rowKeyPattern, timestampOfRowKey } from "../../../src/audit/row_key.js";
import { decodeCursor, encodeCursor } from "../../../src/audit/table_audit_log.js";
import { AppError } from "../../../src/errors/app_error.js";

const ms = Date.parse("2025-03-04T05:06:07.089Z");

function expectStrictlyIncreasing(keys: readonly string[]): void {
  for (let i = 1; i < keys.length; i++) {
    if (!(keys[i - 1]! < keys[i]!)) {
      throw new Error(`key ${i} is not greater than key ${i - 1}: ${keys[i - 1]} then ${keys[i]}`);
    }
  }
}

describe("createRowKeyFactory", () => {
  it("makes keys that match rowKeyPattern", () => {
    const next = createRowKeyFactory();
    for (let i = 0; i < 100; i++) expect(next()).toMatch(rowKeyPattern);
    expect(createRowKeyFactory(() => ms)()).toMatch(rowKeyPattern);
  });

  it("starts with the milliseconds, zero-padded to 15 digits", () => {
    const key = createRowKeyFactory(() => ms)();
    expect(key.slice(0, 15)).toBe(String(ms).padStart(15, "0"));
  });

  it("makes 10,000 unique, strictly increasing keys with a frozen clock", () => {
    const next = createRowKeyFactory(() => ms);
    const keys = Array.from({ length: 10_000 }, () => next());
    expect(new Set(keys).size).toBe(10_000);
    expectStrictlyIncreasing(keys);
    for (const key of keys) expect(key).toMatch(rowKeyPattern);
  });

  it("keeps keys increasing when the clock goes backwards", () => {
    const times = [ms, ms + 5, ms - 1000, ms - 1000, ms + 3, ms + 6, ms];
    let i = 0;
    const next = createRowKeyFactory(() => times[i++]!);
    const keys = times.map(() => next());
    expectStrictlyIncreasing(keys);
    // Never earlier than the latest time already used.
    expect(timestampOfRowKey(keys[2]!)).toBe(new Date(ms + 5).toISOString());
    expect(timestampOfRowKey(keys[5]!)).toBe(new Date(ms + 6).toISOString());
  });

  it("restarts the sequence when the millisecond changes", () => {
    const times = [ms, ms, ms + 1];
    let i = 0;
    const next = createRowKeyFactory(() => times[i++]!);
    const keys = times.map(() => next());
    expect(keys[0]!.split("-")[1]).toBe("000000");
    expect(keys[1]!.split("-")[1]).toBe("000001");
    expect(keys[2]!.split("-")[1]).toBe("000000");
  });

  it("gives distinct keys from two factories in the same millisecond", () => {
    const a = createRowKeyFactory(() => ms);
    const b = createRowKeyFactory(() => ms);
    const keysA = Array.from({ length: 50 }, () => a());
    const keysB = Array.from({ length: 50 }, () => b());
    expect(new Set([...keysA, ...keysB]).size).toBe(100);
    expect(keysA[0]!.slice(0, 22)).toBe(keysB[0]!.slice(0, 22));
  });
});

describe("timestampOfRowKey", () => {
  it("gives the ISO time of the millisecond part", () => {
    const key = createRowKeyFactory(() => ms)();
    expect(timestampOfRowKey(key)).toBe("2025-03-04T05:06:07.089Z");
    expect(timestampOfRowKey("000000000000000-000000-00000000")).toBe("1970-01-01T00:00:00.000Z");
  });
});

describe("audit cursors", () => {
  it("round-trips a row key", () => {
    const key = createRowKeyFactory(() => ms)();
    const cursor = encodeCursor(key);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain(key);
    expect(decodeCursor(cursor)).toBe(key);
  });

  it.each([
    ["arbitrary text", "not-a-cursor"],
    ["empty", ""],
    ["base64url of something else", Buffer.from("hello world", "utf8").toString("base64url")],
    ["a raw row key, not encoded", "001741064767089-000000-0a1b2c3d"],
    ["base64url of a row key with extra text", Buffer.from("001741064767089-000000-0a1b2c3d;x", "utf8").toString("base64url")],
  ])("rejects %s as invalid_request", (_label, cursor) => {
    let thrown: unknown;
    try {
      decodeCursor(cursor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe("invalid_request");
    expect((thrown as AppError).details).toEqual({ field: "cursor" });
  });
});

describe("createRowKeyFactory past a million keys in one millisecond", () => {
  // A million keys take seconds of CPU; on two shared cores that must not count as a failure.
  it("borrows the next millisecond instead of overflowing the sequence", () => {
    const next = createRowKeyFactory(() => 1_000);
    let previous = "";
    for (let i = 0; i < 1_000_001; i++) {
      const key = next();
      if (i % 100_000 === 0 || i >= 999_999) {
        expect(key).toMatch(rowKeyPattern);
        expect(key > previous).toBe(true);
      }
      previous = key;
    }
    expect(previous.startsWith("000000000001001-000000-")).toBe(true);
  }, 60_000);
});
