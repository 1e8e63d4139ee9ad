import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it, expect } from "vitest";
import { OutputBuffer, completeUtf8Length, startProcess, type ProcessOptions } from "../../../../plugins/shell/run_process.js";
import { processesWith, sleepMarker, waitFor } from "../../../support/processes.js";

const cwd = mkdtempSync(join(tmpdir(), "run-process-test-"));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

function options(file: string, args: string[], overrides: Partial<ProcessOptions> = {}): ProcessOptions {
  return { file, args, cwd, env: { PATH: "/usr/bin:/bin" }, timeoutMs: 5000, maxOutputBytes: 1024, ...overrides };
}

describe("startProcess", () => {
  it("collects stdout, stderr and the exit code", async () => {
    const outcome = await startProcess(options("sh", ["-c", "printf out; printf err >&2; exit 4"])).done;
    expect(outcome).toMatchObject({ exitCode: 4, signal: null, stdout: "out", stderr: "err", truncated: false });
    expect(outcome.durationMs).toBeGreaterThanOrEqual(0);
  });

  it("rejects with the reason given to stop(), after the process tree is dead", async () => {
    const marker = sleepMarker();
    const run = startProcess(options("sh", ["-c", `sleep ${marker} & sleep ${marker}`]));
    await waitFor(() => processesWith(marker).length === 2);
    const reason = new Error("stopped by the test");
    run.stop(reason);
    await expect(run.done).rejects.toBe(reason);
    expect(processesWith(marker)).toEqual([]);
  });

  it("does not start when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("gone"));
    const marker = sleepMarker();
    await expect(startProcess(options("sleep", [marker], { signal: controller.signal })).done).rejects.toThrow("gone");
    expect(processesWith(marker)).toEqual([]);
  });

  it("stops collecting a stream at the limit and stops the command", async () => {
    const started = Date.now();
    const outcome = await startProcess(options("sh", ["-c", "echo started; yes >&2"], { maxOutputBytes: 2048 })).done;
    expect(outcome).toMatchObject({ exitCode: null, signal: "SIGKILL", stdout: "started\n", truncated: true });
    expect(outcome.stderr).toBe("y\n".repeat(1024));
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("ends the run when the command exits, even if a process that left its group holds the output open", async () => {
    const marker = sleepMarker();
    try {
      // setsid takes the sleep out of the command's process group: the group kill cannot reach it,
      // so the plugin stops waiting for the output shortly after the command itself exited.
      const outcome = await startProcess(options("sh", ["-c", `setsid sleep ${marker} & sleep 0.2; echo started`])).done;
      expect(outcome).toMatchObject({ exitCode: 0, stdout: "started\n" });
      expect(outcome.durationMs).toBeGreaterThanOrEqual(1000);
      expect(outcome.durationMs).toBeLessThan(3000);
      // The limit of a process-group kill: this one survives (and is cleaned up below).
      expect(processesWith(marker)).toHaveLength(1);
    } finally {
      for (const pid of processesWith(marker)) process.kill(pid, "SIGKILL");
    }
  });
});

describe("OutputBuffer", () => {
  it("keeps everything up to the limit", () => {
    const buffer = new OutputBuffer(4);
    expect(buffer.append(Buffer.from("ab"))).toBe("kept");
    expect(buffer.append(Buffer.from("cd"))).toBe("kept");
    expect(buffer.truncated).toBe(false);
    expect(buffer.text()).toBe("abcd");
  });

  it("keeps the first bytes past the limit once and ignores the rest", () => {
    const buffer = new OutputBuffer(4);
    expect(buffer.append(Buffer.from("abc"))).toBe("kept");
    expect(buffer.append(Buffer.from("def"))).toBe("overflowed");
    expect(buffer.append(Buffer.from("ghi"))).toBe("ignored");
    expect(buffer.truncated).toBe(true);
    expect(buffer.text()).toBe("abcd");
  });

  it("leaves out a character cut by the limit", () => {
    const buffer = new OutputBuffer(5);
    buffer.append(Buffer.from("abc€")); // € is 3 bytes: only 2 of them fit
    expect(buffer.text()).toBe("abc");
  });
});

describe("completeUtf8Length", () => {
  it.each<[string, number[], number]>([
    ["empty", [], 0],
    ["ASCII", [0x61, 0x62], 2],
    ["a complete 2-byte character", [0x61, 0xc3, 0xa9], 3],
    ["a cut 2-byte character", [0x61, 0xc3], 1],
    ["a complete 3-byte character", [0xe2, 0x82, 0xac], 3],
    ["a 3-byte character cut after 2", [0x61, 0xe2, 0x82], 1],
    ["a 3-byte character cut after 1", [0x61, 0xe2], 1],
    ["a complete 4-byte character", [0xf0, 0x9f, 0x98, 0x80], 4],
    ["a 4-byte character cut after 3", [0x61, 0xf0, 0x9f, 0x98], 1],
    ["stray continuation bytes", [0x80, 0x80, 0x80, 0x80, 0x80], 5],
  ])("%s", (_label, bytes, length) => {
    expect(completeUtf8Length(Uint8Array.from(bytes))).toBe(length);
  });
});
