import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { connect } from "node:net";
import { azuriteConnectionString, type AzuritePorts } from "../../src/azure/connection_string.js";
import { freePort } from "./free_port.js";

export interface AzuriteProcess {
  /** The process id, for a fault test to pause it (SIGSTOP/SIGCONT). */
  readonly pid: number;
  readonly ports: AzuritePorts;
  /** Its connection string: the blob, queue and table endpoints on 127.0.0.1. */
  readonly connectionString: string;
  /** SIGKILL by default; SIGINT (Azurite's own stop signal) saves a `location` store before it exits. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Three free loopback ports for an Azurite of a test's own, to start it on them again and again. */
export async function freeAzuritePorts(): Promise<AzuritePorts> {
  return { blob: await freePort(), queue: await freePort(), table: await freePort() };
}

/**
 * Azurite (blob, queue and table) as a process of its own on `ports` (in memory, or kept in the
 * directory `location`), so that a test can stop it and start it again on the same ports, which the
 * run's shared, in-process Azurite cannot do. Started again in memory, it is an emptied account.
 */
export async function startAzurite(ports: AzuritePorts, options: { location?: string } = {}): Promise<AzuriteProcess> {
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const child = spawn(
    process.execPath,
    [
      main,
      ...["--blobHost", "127.0.0.1", "--blobPort", String(ports.blob)],
      ...["--queueHost", "127.0.0.1", "--queuePort", String(ports.queue)],
      ...["--tableHost", "127.0.0.1", "--tablePort", String(ports.table)],
      // --inMemoryPersistence cannot be combined with --location.
      ...(options.location ? ["--location", options.location] : ["--inMemoryPersistence"]),
      ...["--skipApiVersionCheck", "--disableTelemetry", "--silent"],
    ],
    { stdio: "ignore" },
  );
  child.once("error", () => {});
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + 15_000;
  for (const port of [ports.blob, ports.queue, ports.table]) {
    while (!(await accepts(port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new Error(`Azurite did not start on ports ${JSON.stringify(ports)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    pid: child.pid!,
    ports,
    connectionString: azuriteConnectionString("127.0.0.1", ports),
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
