import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * Shared by the benchmark's child servers: report readiness as one JSON line on stdout, and end
 * when the parent goes away (its end of our stdin closes) or asks us to stop.
 */
export function announce(fields: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ready: true, ...fields })}\n`);
}

export function exitWithParent(close: () => Promise<void> | void): void {
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const deadline = setTimeout(() => process.exit(0), 2000);
    deadline.unref();
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  };
  process.stdin.on("end", stop).on("close", stop).on("error", stop);
  process.stdin.resume();
  process.once("SIGTERM", stop).once("SIGINT", stop);
}

/** An HTTP server of the benchmark's: listens on a free loopback port, announces it, and closes when the parent goes away. */
export function serveHttpChild(server: Server): void {
  server.listen(0, "127.0.0.1", () => {
    announce({ port: (server.address() as AddressInfo).port });
  });
  exitWithParent(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
}
