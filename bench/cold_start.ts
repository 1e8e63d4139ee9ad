/**
 * Cold start of the local host bundle: time from spawn() to the first 200 of GET /api/plugins,
 * polling every `pollMs`. Each start is a fresh process that is stopped afterwards.
 */
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { cleanEnvironment, spawnChild, type Child } from "./processes.js";
import { freePort } from "../tests/support/free_port.js";

const hostBundle = fileURLToPath(new URL("../dist/src/host/start.js", import.meta.url));

export interface HostOptions {
  readonly port: number;
  /** Audit storage; without it the host starts Azurite in its own process. */
  readonly storageConnectionString?: string;
  /** Session memory (and result cache) in this Redis; without it the host keeps them in process. */
  readonly redisUrl?: string;
  readonly logLevel?: string;
  /** Extra node flags, e.g. --cpu-prof. */
  readonly nodeFlags?: readonly string[];
}

export function spawnHost(name: string, options: HostOptions): Child {
  const env = cleanEnvironment({
    PORT: String(options.port),
    HOST: "127.0.0.1",
    LOG_LEVEL: options.logLevel ?? "warn",
    ...(options.storageConnectionString ? { STORAGE_CONNECTION_STRING: options.storageConnectionString } : {}),
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  });
  return spawnChild(name, process.execPath, [...(options.nodeFlags ?? []), hostBundle, "--local"], env);
}

/** One GET; resolves with the status, or 0 when the connection failed (not listening yet). */
export function getStatus(url: string, timeoutMs = 1000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
      res.on("error", () => resolve(0));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
    req.end();
  });
}

/** Polls until `url` answers 200; rejects when the child exits or `timeoutMs` passes. */
export async function waitFor200(child: Child, url: string, pollMs: number, timeoutMs: number, startedAt = performance.now()): Promise<number> {
  let exited = false;
  void child.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${child.name} exited before answering\n${child.output()}`);
    if ((await getStatus(url)) === 200) return performance.now() - startedAt;
    if (performance.now() - startedAt > timeoutMs) throw new Error(`${child.name}: no 200 from ${url} within ${timeoutMs} ms\n${child.output()}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/** Spawns the host, measures spawn → first 200 of /api/plugins, stops it. */
export async function measureColdStart(name: string, storageConnectionString: string | undefined, pollMs: number): Promise<number> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawnHost(name, storageConnectionString ? { port, storageConnectionString } : { port });
  try {
    return await waitFor200(child, `http://127.0.0.1:${port}/api/plugins`, pollMs, 30_000, startedAt);
  } finally {
    await child.stop();
  }
}
