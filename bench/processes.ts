/**
 * Child processes of the benchmark: every one is tracked from spawn to exit, and all that are
 * still running are stopped when the benchmark ends, fails or is interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;
  /** Last lines of stdout and stderr, for error messages. */
  output(): string;
  /** Calls `listener` with every later stdout line; returns the function that removes it. */
  onStdoutLine(listener: (line: string) => void): () => void;
  stop(): Promise<void>;
}

const running = new Set<Child>();
/** Environment settings of the app (src/config/config.ts): removed so that every child starts from the same defaults. */
const appSettings = /^(PORT|HOST|LOG_LEVEL|MAX_BODY_BYTES|REDIS_URL|SESSION_MEMORY_|STORAGE_|AZURE_|AUDIT_TABLE_NAME|PLUGIN_|RESULT_CACHE_|SHELL_PLUGIN_|HF_)/;

export function cleanEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  const environment: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!appSettings.test(name)) environment[name] = value;
  return { ...environment, ...extra };
}

export function spawnChild(name: string, command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd?: string): Child {
  // stdin stays a pipe: the benchmark's own servers exit when it closes, i.e. when the benchmark dies.
  const child = spawn(command, args, { env, cwd, stdio: ["pipe", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`${name}: could not be started (${command})`);
  const tail: string[] = [];
  const keep = (line: string) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  };
  const stdoutListeners = new Set<(line: string) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    keep(line);
    for (const listener of stdoutListeners) listener(line);
  });
  createInterface({ input: child.stderr! }).on("line", keep);
  child.stdin!.on("error", () => {});
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const handle: Child = {
    name,
    process: child,
    pid: child.pid,
    exited,
    output: () => tail.join("\n"),
    onStdoutLine: (listener) => {
      stdoutListeners.add(listener);
      return () => stdoutListeners.delete(listener);
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end();
        child.kill("SIGTERM");
        const killer = setTimeout(() => child.kill("SIGKILL"), 3000);
        await exited;
        clearTimeout(killer);
      }
      running.delete(handle);
    },
  };
  running.add(handle);
  void exited.then(() => running.delete(handle));
  return handle;
}

/** Waits for the first stdout line that is a JSON object with `ready: true` (how the benchmark's own servers announce themselves). */
export function waitForReadyLine<T extends object>(child: Child, timeoutMs = 20_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${child.name}: not ready after ${timeoutMs} ms\n${child.output()}`)), timeoutMs);
    const onExit = () => fail(new Error(`${child.name}: exited before it was ready\n${child.output()}`));
    const fail = (error: Error) => {
      clearTimeout(timer);
      removeListener();
      reject(error);
    };
    child.process.once("exit", onExit);
    const removeListener = child.onStdoutLine((line) => {
      if (!line.startsWith("{")) return;
      try {
        const value = JSON.parse(line) as { ready?: boolean };
        if (value.ready !== true) return;
        clearTimeout(timer);
        child.process.off("exit", onExit);
        removeListener();
        resolve(value as T);
      } catch {
        // not our line
      }
    });
  });
}

/** Stops every child that is still running; safe to call more than once. */
export async function stopAll(): Promise<void> {
  await Promise.allSettled([...running].map((c) => c.stop()));
}

/** Last resort on exit: no time to wait, so anything left gets SIGKILL. */
function killAllNow(): void {
  for (const child of running) {
    try {
      child.process.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
}

let installed = false;
/** SIGINT/SIGTERM/SIGHUP and unexpected errors stop the children before the benchmark exits. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllNow);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the benchmark's child processes`);
      void stopAll().finally(() => process.exit(130));
    });
  }
  const crash = (error: unknown) => {
    console.error("benchmark failed:", error);
    void stopAll().finally(() => process.exit(1));
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}

const clockTicks = 100; // USER_HZ; 100 on every Linux configuration Node supports

/** CPU time (user + system) a process has used so far, in ms; undefined where /proc is not available. */
function cpuTimeMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 2 (comm) may contain spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Busy and total CPU time of the whole machine so far, in ms (all cores), from /proc/stat. */
function machineCpuMs(): { busy: number; steal: number } | undefined {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!;
    const [user, nice, system, _idle, _iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number) as number[];
    return { busy: ((user! + nice! + system! + irq! + softirq!) * 1000) / clockTicks, steal: ((steal ?? 0) * 1000) / clockTicks };
  } catch {
    return undefined;
  }
}

/** Time the main thread of `pid` was runnable but waiting for a CPU so far, in ms (/proc/<pid>/schedstat). */
function runQueueWaitMs(pid: number): number | undefined {
  try {
    const [, waitNs] = readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(" ").map(Number);
    return waitNs === undefined ? undefined : waitNs / 1e6;
  } catch {
    return undefined;
  }
}

export interface CpuShares {
  /** Per named process, as a share of one core; `client` is this (the benchmark's) process. */
  readonly processes: Record<string, number | undefined>;
  /** Everything else the machine ran meanwhile (other people's builds and tests, the kernel's own work), in cores. */
  readonly others: number | undefined;
  /** CPU the hypervisor gave to other guests while we wanted it, in cores. */
  readonly steal: number | undefined;
  /** Share of the time the server's main thread was ready to run but had no CPU. */
  readonly serverRunQueueWait: number | undefined;
}

/** Measures the CPU each process uses between the call and `stop()`. */
export function cpuMeter(pids: Readonly<Record<string, number>>): { stop(): CpuShares } {
  const started = performance.now();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuTimeMs(pid)]));
  const selfBefore = process.cpuUsage();
  const machineBefore = machineCpuMs();
  const waitBefore = pids.server === undefined ? undefined : runQueueWaitMs(pids.server);
  return {
    stop: () => {
      const wall = performance.now() - started;
      const processes: Record<string, number | undefined> = {};
      for (const [name, pid] of Object.entries(pids)) {
        const a = before[name];
        const b = cpuTimeMs(pid);
        processes[name] = a === undefined || b === undefined ? undefined : (b - a) / wall;
      }
      const self = process.cpuUsage(selfBefore);
      processes.client = (self.user + self.system) / 1000 / wall;
      const machineAfter = machineCpuMs();
      let others: number | undefined;
      let steal: number | undefined;
      if (machineBefore && machineAfter) {
        const ours = Object.values(processes).reduce<number>((sum, v) => sum + (v ?? 0), 0);
        others = Math.max(0, (machineAfter.busy - machineBefore.busy) / wall - ours);
        steal = (machineAfter.steal - machineBefore.steal) / wall;
      }
      const waitAfter = pids.server === undefined ? undefined : runQueueWaitMs(pids.server);
      const serverRunQueueWait = waitBefore === undefined || waitAfter === undefined ? undefined : (waitAfter - waitBefore) / wall;
      return { processes, others, steal, serverRunQueueWait };
    },
  };
}

/** How busy the machine is without us: CPU used by everything during `ms`, in cores. */
export async function backgroundLoad(ms: number): Promise<number | undefined> {
  const before = machineCpuMs();
  const selfBefore = process.cpuUsage();
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = machineCpuMs();
  if (!before || !after) return undefined;
  const wall = performance.now() - started;
  const self = process.cpuUsage(selfBefore);
  return Math.max(0, (after.busy - before.busy) / wall - (self.user + self.system) / 1000 / wall);
}
