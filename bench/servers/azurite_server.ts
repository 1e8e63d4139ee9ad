/**
 * Azurite (in memory, free loopback ports) in its own process, so that the audit writes of the
 * local host under load do not share the host's event loop with the emulator. Started the same
 * way the local host starts it when no storage is configured (src/host/embedded_azurite.ts).
 *
 * It also counts the requests its table service receives, so that the benchmark can say how
 * many Table requests a turn costs: Azurite does not report that itself (its debug log would,
 * at a CPU cost that would distort the row). Counting happens where Azurite's own HTTP server
 * dispatches a request, so the host talks to Azurite directly — no proxy hop that would slow
 * the audited row down. The counts are served on a separate loopback port (`countsPort`).
 * Prints {"ready":true,"connectionString":...,"countsPort":...} once it listens.
 */
import { createServer, Server, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { startEmbeddedAzurite } from "../../src/host/embedded_azurite.js";
import { announce, exitWithParent } from "./child_guard.js";

const azurite = await startEmbeddedAzurite("127.0.0.1");

/** Table requests by kind since the process started: `batch` is an entity-group transaction (POST .../$batch). */
const counts = { batch: 0, otherWrites: 0, reads: 0 };
function count(req: IncomingMessage): void {
  const method = req.method ?? "GET";
  if (method === "GET" || method === "HEAD" || method === "OPTIONS") counts.reads++;
  else if (method === "POST" && (req.url ?? "").split("?", 1)[0]!.endsWith("/$batch")) counts.batch++;
  else counts.otherWrites++;
}

// Azurite does not expose its http.Server through startEmbeddedAzurite; every server in this
// process is ours, so the table service is told apart by the port it listens on.
const emit = Server.prototype.emit;
Server.prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
  if (event === "request" && (this.address() as AddressInfo | null)?.port === azurite.ports.table) count(args[0] as IncomingMessage);
  return (emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean).call(this, event, ...args);
} as typeof emit;

const control = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify(counts));
});
await new Promise<void>((resolve) => control.listen(0, "127.0.0.1", resolve));

announce({ connectionString: azurite.connectionString, ports: azurite.ports, countsPort: (control.address() as AddressInfo).port });
exitWithParent(async () => {
  control.close();
  await azurite.close();
});
