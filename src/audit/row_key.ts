import { randomBytes } from "node:crypto";

export const rowKeyPattern = /^\d{15}-\d{6}-[0-9a-f]{8}$/;

/**
 * RowKeys sort by time (Table Storage orders a partition by RowKey) and never collide:
 * milliseconds since the epoch, a sequence within that millisecond, and a random suffix for
 * writers in other processes. The clock is never allowed to run backwards within a process.
 */
export function createRowKeyFactory(now: () => number = Date.now): () => string {
  let lastMs = 0;
  let sequence = 0;
  return () => {
    let ms = Math.max(now(), lastMs);
    sequence = ms === lastMs ? sequence + 1 : 0;
    // A millisecond holds a million keys; past that (only while the clock stands still or runs back) borrow the next one.
    if (sequence > 999_999) {
      ms = lastMs + 1;
      sequence = 0;
    }
    lastMs = ms;
    return `${String(ms).padStart(15, "0")}-${String(sequence).padStart(6, "0")}-${randomBytes(4).toString("hex")}`;
  };
}

export function timestampOfRowKey(rowKey: string): string {
  return new Date(Number(rowKey.slice(0, 15))).toISOString();
}
