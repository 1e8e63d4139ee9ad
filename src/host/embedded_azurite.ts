import { createRequire } from "node:module";
import { azuriteConnectionString, type AzuritePorts } from "../azure/connection_string.js";

export interface EmbeddedAzurite {
  readonly connectionString: string;
  readonly ports: AzuritePorts;
  close(): Promise<void>;
}

interface AzuriteServer {
  start(): Promise<void>;
  close(): Promise<void>;
  clean?(): Promise<void>;
  httpServer: { address(): { port: number } | string | null };
}

/**
 * Azurite (blob, queue and table) in this process, in memory, on free loopback ports.
 * Azurite has no public programmatic API, so its server classes are constructed the way its own
 * CLI does (azurite/dist/src/azurite.js); the version is pinned by the lockfile. Telemetry is
 * never started here (only the CLI starts it), and API versions are not checked because the
 * SDKs are newer than the emulator.
 */
export async function startEmbeddedAzurite(host = "127.0.0.1"): Promise<EmbeddedAzurite> {
  const require = createRequire(import.meta.url);
  const load = (path: string) => require(`azurite/dist/src/${path}`).default;
  const BlobConfiguration = load("blob/BlobConfiguration");
  const BlobServer = load("blob/BlobServer");
  const QueueConfiguration = load("queue/QueueConfiguration");
  const QueueServer = load("queue/QueueServer");
  const TableConfiguration = load("table/TableConfiguration");
  const TableServer = load("table/TableServer");

  const keepAlive = 5;
  const memory = true;
  const loose = false;
  const skipApiVersionCheck = true;
  const quiet = { accessLog: false, debugLog: false };
  // Positional arguments, in the order of the configuration classes' constructors; blob's and queue's take the same.
  const blobOrQueueSettings = [
    host,
    0,
    keepAlive,
    undefined,
    undefined,
    undefined,
    quiet.accessLog,
    undefined,
    quiet.debugLog,
    undefined,
    loose,
    skipApiVersionCheck,
    "",
    "",
    "",
    undefined,
    false,
    memory,
  ] as const;
  const blob: AzuriteServer = new BlobServer(new BlobConfiguration(...blobOrQueueSettings));
  const queue: AzuriteServer = new QueueServer(new QueueConfiguration(...blobOrQueueSettings));
  const table: AzuriteServer = new TableServer(
    new TableConfiguration(
      host,
      0,
      keepAlive,
      undefined,
      quiet.debugLog,
      quiet.accessLog,
      undefined,
      undefined,
      loose,
      skipApiVersionCheck,
      "",
      "",
      "",
      undefined,
      false,
      memory,
    ),
  );

  const started: AzuriteServer[] = [];
  try {
    for (const server of [blob, queue, table]) {
      await server.start();
      started.push(server);
    }
  } catch (error) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw error;
  }

  const ports = { blob: portOf(blob), queue: portOf(queue), table: portOf(table) };
  return {
    ports,
    connectionString: azuriteConnectionString(host, ports),
    close: async () => {
      await Promise.allSettled([blob, queue, table].map((s) => s.close()));
    },
  };
}

function portOf(server: AzuriteServer): number {
  const address = server.httpServer.address();
  if (address === null || typeof address === "string") throw new Error("Azurite did not report a TCP port");
  return address.port;
}
