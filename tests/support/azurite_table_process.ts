import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { connect } from "node:net";

export interface AzuriteTableProcess {
  /** The process id, for a fault test to pause it (SIGSTOP/SIGCONT). */
  readonly pid: number;
  /** SIGKILL by default; SIGINT (Azurite's own stop signal) saves a `location` store before it exits. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Azurite's table service as a process of its own on `port` (in memory, or kept in the
 * directory `location`), so that a test can stop it and start it again on the same port, which the
 * run's shared, in-process Azurite cannot do.
 */
export async function startAzuriteTable(port: number, options: { location?: string } = {}): Promise<AzuriteTableProcess> {
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/table/main.js");
  const child = spawn(
    process.execPath,
    [
      main,
      ...["--tableHost", "127.0.0.1", "--tablePort", String(port)],
      // --inMemoryPersistence cannot be combined with --location.
      ...(options.location ? ["--location", options.location] : ["--inMemoryPersistence"]),
      ...["--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    ],
    { stdio: "ignore" },
  );
  child.once("error", () => {});
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  while (!(await accepts(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`Azurite's table service did not start on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    pid: child.pid!,
    stop: async (signal: NodeJS.Signals = "SIGKILL") => {
      // A paused process would never act on SIGINT.
      child.kill("SIGCONT");
      child.kill(signal);
      await exited;
    },
  };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}
