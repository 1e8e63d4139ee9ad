import { readdirSync, readFileSync } from "node:fs";

/** Processes whose arguments include `marker` (zombies have no arguments left, so they do not count). */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").includes(marker)) pids.push(Number(entry));
    } catch {
      // The process ended while the list was read.
    }
  }
  return pids;
}

export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A `sleep` argument no other process has: 30 seconds and a random fraction. */
export function sleepMarker(): string {
  return `30.${String(Math.floor(Math.random() * 1e6)).padStart(6, "0")}1`;
}
