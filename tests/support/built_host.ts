import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { freePort } from "./free_port.js";

const startBundle = join(import.meta.dirname, "..", "..", "dist", "src", "host", "start.js");

export interface BuiltHost {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly process: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  stop(): Promise<void>;
}

/**
 * `npm start` as a fresh clone runs it: the built local host (dist/src/host/start.js --local, built
 * by the global setup) on a free port, with nothing of this project configured but `env`.
 */
export async function startBuiltHost(env: Record<string, string> = {}): Promise<BuiltHost> {
  const port = await freePort();
  const child = spawn(process.execPath, [startBundle, "--local"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), ...env },
    stdio: "pipe",
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local host did not start within 30 s:\n${output}`)), 30_000);
    const check = () => {
      if (!/listening on/.test(output)) return;
      clearTimeout(timer);
      child.stdout?.off("data", check);
      resolve();
    };
    child.stdout?.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the local host exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
