/**
 * Runs one executable without a shell, in its own process group, and collects its output.
 *
 * - Whatever ends the run early (the time limit, the caller's abort signal, `stop()`, output over
 *   the limit) kills the whole process group with SIGKILL, so children the command started in
 *   the background die with it.
 * - When the command itself exits, whatever it left running in its group is killed as well: a
 *   run is one command, and nothing it started outlives it.
 * - stdout and stderr are each kept up to `maxOutputBytes`. The first byte past that limit on
 *   either stream stops the command (SIGKILL): the result then has `truncated: true`, the output
 *   up to the limit, `exitCode: null` and `signal: "SIGKILL"`. Stopping rather than discarding
 *   the rest keeps a runaway command (`yes`) from running until the time limit.
 *
 * The process-group kill is POSIX; on Windows only the direct child is killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { AppError } from "../../src/plugins/plugin.js";

export interface ProcessOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  /** For stdout and for stderr, each. */
  readonly maxOutputBytes: number;
  /** Aborting kills the process tree; the run then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

interface ProcessOutcome {
  /** Null when the process was ended by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when stdout or stderr went past the limit; the command was then stopped. */
  readonly truncated: boolean;
  readonly durationMs: number;
}

export interface RunningProcess {
  /**
   * Resolves when the process has ended and its output is closed, whatever its exit code.
   * Rejects with AppError("invalid_input") when the executable does not exist, with
   * AppError("plugin_failed") on the time limit or when it cannot be started, with the abort
   * reason when the signal aborts, or with the reason given to `stop`.
   */
  readonly done: Promise<ProcessOutcome>;
  /** Kills the process tree; `done` rejects with `reason` (unless the command had already exited). */
  stop(reason: unknown): void;
}

/** After the command exits, how long its output may stay open (held by a process that left its group). */
const closeGraceMs = 1000;

export function startProcess(options: ProcessOptions): RunningProcess {
  let stop: (reason: unknown) => void = () => {};
  const done = new Promise<ProcessOutcome>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const started = performance.now();

    let child: ChildProcess;
    try {
      child = spawn(options.file, [...options.args], {
        shell: false,
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        windowsHide: true,
      });
    } catch (error) {
      reject(new AppError("plugin_failed", `could not start "${options.file}"`, { details: { command: options.file }, cause: error }));
      return;
    }

    const stdout = new OutputBuffer(options.maxOutputBytes);
    const stderr = new OutputBuffer(options.maxOutputBytes);
    let settled = false;
    let exited = false;
    let failure: { reason: unknown } | undefined;
    let graceTimer: NodeJS.Timeout | undefined;

    const killTree = (): void => {
      const pid = child.pid;
      if (pid === undefined) return;
      try {
        if (process.platform === "win32") child.kill("SIGKILL");
        // Negative pid: the process group that `detached: true` made the child the leader of.
        else process.kill(-pid, "SIGKILL");
      } catch {
        // ESRCH: every process of the group has already ended. Nothing else can be done about EPERM.
      }
    };

    // The first reason to end early wins; once the command has exited, its result stands.
    const end = (reason: unknown): void => {
      if (settled || exited || failure) return;
      failure = { reason };
      killTree();
    };
    stop = end;

    const timer = setTimeout(() => {
      end(new AppError("plugin_failed", `command timed out after ${options.timeoutMs} ms`, { details: { timeoutMs: options.timeoutMs } }));
    }, options.timeoutMs);
    const onAbort = (): void => end(abortReason(signal!));
    signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (outcome: { ok: ProcessOutcome } | { error: unknown }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      signal?.removeEventListener("abort", onAbort);
      if ("ok" in outcome) resolve(outcome.ok);
      else reject(outcome.error);
    };

    const collect = (buffer: OutputBuffer) => (chunk: Buffer) => {
      if (buffer.append(chunk) === "overflowed" && !exited) killTree();
    };
    child.stdout!.on("data", collect(stdout));
    child.stderr!.on("data", collect(stderr));

    child.on("error", (error: NodeJS.ErrnoException) => {
      // Emitted when the process could not be started (there is then no pid and no "exit").
      if (child.pid !== undefined) return;
      if (error.code === "ENOENT") {
        finish({ error: new AppError("invalid_input", `command not found: ${options.file}`, { details: { command: options.file } }) });
      } else {
        finish({
          error: new AppError("plugin_failed", `could not start "${options.file}" (${error.code ?? "unknown error"})`, {
            details: { command: options.file },
            cause: error,
          }),
        });
      }
    });

    child.on("exit", () => {
      exited = true;
      // Background processes the command left in its group would hold the output open; they end with it.
      killTree();
      // A process that moved to a group of its own (setsid) may still hold the output open.
      graceTimer = setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, closeGraceMs);
    });

    child.on("close", (exitCode: number | null, exitSignal: NodeJS.Signals | null) => {
      if (child.pid === undefined) return;
      if (failure) {
        finish({ error: failure.reason });
        return;
      }
      finish({
        ok: {
          exitCode,
          signal: exitSignal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
          durationMs: Math.round(performance.now() - started),
        },
      });
    });
  });
  return { done, stop: (reason) => stop(reason) };
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** Keeps the first `limit` bytes of a stream. */
export class OutputBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  /** "overflowed" the first time the stream goes past the limit. */
  append(chunk: Buffer): "kept" | "overflowed" | "ignored" {
    if (this.truncated) return "ignored";
    const room = this.limit - this.size;
    if (chunk.length <= room) {
      this.chunks.push(chunk);
      this.size += chunk.length;
      return "kept";
    }
    this.chunks.push(chunk.subarray(0, room));
    this.size += room;
    this.truncated = true;
    return "overflowed";
  }

  /** The bytes kept, as UTF-8; a character cut by the limit is left out rather than mangled. */
  text(): string {
    const bytes = Buffer.concat(this.chunks, this.size);
    return (this.truncated ? bytes.subarray(0, completeUtf8Length(bytes)) : bytes).toString("utf8");
  }
}

/** The length of `bytes` without a multi-byte UTF-8 sequence that is cut off at the end. */
export function completeUtf8Length(bytes: Uint8Array): number {
  // A sequence is at most 4 bytes: look back at most 3 continuation bytes for its lead byte.
  for (let back = 1; back <= Math.min(4, bytes.length); back++) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0b1100_0000) === 0b1000_0000) continue; // continuation byte
    const needed = byte >= 0b1111_0000 ? 4 : byte >= 0b1110_0000 ? 3 : byte >= 0b1100_0000 ? 2 : 1;
    return needed > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}
