import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { startEmbeddedAzurite } from "../../src/host/embedded_azurite.js";
import { startRedisServer } from "./redis_server.js";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
    storageConnectionString: string;
  }
}

/**
 * Starts the real dependencies once for the whole run: a redis-server and Azurite on free ports,
 * unless REDIS_URL / STORAGE_CONNECTION_STRING point at running ones. Also builds what the smoke
 * tests start as a process: the web console (dist/console, which the app serves) and the bundle.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redis = process.env.REDIS_URL ? undefined : await startRedisServer();
  const azurite = process.env.STORAGE_CONNECTION_STRING ? undefined : await startEmbeddedAzurite();
  project.provide("redisUrl", process.env.REDIS_URL ?? redis!.url);
  project.provide("storageConnectionString", process.env.STORAGE_CONNECTION_STRING ?? azurite!.connectionString);
  execFileSync("npm", ["run", "-s", "build:console"], { stdio: "inherit" });
  execFileSync(process.execPath, ["esbuild.config.mjs"], { stdio: "inherit" });
  return async () => {
    await Promise.all([redis?.stop(), azurite?.close()]);
  };
}
