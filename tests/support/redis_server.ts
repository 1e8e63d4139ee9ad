import { spawn, type ChildProcess } from "node:child_process";
import { Redis } from "ioredis";
import { freePort } from "./free_port.js";

export interface RedisServer {
  readonly url: string;
  /** The process id, for a fault test to pause it (SIGSTOP/SIGCONT) or kill it. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** A real redis-server on a free loopback port (or `port`, to restart one where it was), keeping nothing on disk. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  port ??= await freePort();
  const child: ChildProcess = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
    { stdio: "ignore" },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", () => {});
  const url = `redis://127.0.0.1:${port}`;
  const probe = await connectWhenReady(
    url,
    () => child.exitCode !== null,
    () => {
      child.kill("SIGKILL");
      return new Error(`redis-server did not start on port ${port} (is redis-server installed?)`);
    },
  );
  probe.disconnect();
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      // A paused redis-server would never act on SIGTERM.
      child.kill("SIGCONT");
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * A client connected to the redis-server at `url` once it answers PING, trying every 50 ms for up
 * to 10 s; throws `failure()` sooner when `exited()` says the server process is gone.
 */
export async function connectWhenReady(url: string, exited: () => boolean, failure: () => Error): Promise<Redis> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      await client.connect();
      await client.ping();
      return client;
    } catch {
      client.disconnect();
      if (exited() || Date.now() > deadline) throw failure();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
