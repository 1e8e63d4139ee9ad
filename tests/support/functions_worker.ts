import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const repositoryRoot = join(import.meta.dirname, "..", "..");

/** The bundle that package.json "main" names, which the Functions host loads. */
export const functionsBundle = join(repositoryRoot, "dist", "functions", "main.js");

/**
 * The Functions worker hands @azure/functions a module named "@azure/functions-core" and
 * receives every registration through it. This stand-in records them (and the programming model
 * the library sets, through which the worker turns a handler's result into what the host is sent),
 * so a test sees exactly what the real host would be told by the bundle.
 */
const workerStandIn = `
const registrations = [];
globalThis.__registrations = registrations;
module.exports = {
  setProgrammingModel(model) { globalThis.__programmingModel = model; },
  getProgrammingModel() { return globalThis.__programmingModel; },
  registerHook(type) { (globalThis.__hooks ??= []).push(type); return { dispose() {} }; },
  registerFunction(metadata, callback) { registrations.push({ metadata, callback }); return { dispose() {} }; },
  log() {},
};
`;

/** A folder for NODE_PATH holding the stand-in; remove it with `removeWorkerStandIn`. */
/** bench/loopback_only.mjs: any request to the Azure instance metadata service stays on this machine. */
const loopbackOnly = pathToFileURL(join(repositoryRoot, "bench", "loopback_only.mjs")).href;

export function createWorkerStandIn(): string {
  const nodePath = mkdtempSync(join(tmpdir(), "functions-core-"));
  mkdirSync(join(nodePath, "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(nodePath, "@azure", "functions-core", "index.js"), workerStandIn);
  return nodePath;
}

export function removeWorkerStandIn(nodePath: string): void {
  rmSync(nodePath, { recursive: true, force: true });
}

/** Runs `script` in a Node process that sees the worker stand-in, with only PATH, NODE_PATH and `env`. */
export function runWithWorkerStandIn(nodePath: string, script: string, env: Record<string, string> = {}) {
  return spawnSync(process.execPath, ["--import", loopbackOnly, "--input-type=module", "-e", script], {
    cwd: repositoryRoot,
    env: { PATH: process.env.PATH, NODE_PATH: nodePath, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
}

/**
 * The same without blocking this process: for a driver that calls back into servers the test runs
 * (a token issuer on loopback, whose keys the bundle fetches).
 */
export function runWithWorkerStandInAsync(nodePath: string, script: string, env: Record<string, string> = {}): Promise<DriverRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", loopbackOnly, "--input-type=module", "-e", script], {
      cwd: repositoryRoot,
      env: { PATH: process.env.PATH, NODE_PATH: nodePath, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

export interface DriverRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The driver's last line: what the bundle registered and what its handlers answered. */
export function driverReport(result: DriverRun): any {
  return JSON.parse(result.stdout.trim().split("\n").at(-1)!);
}

/** A script's line that loads the bundle, as the worker does at start. */
export const importBundle = (bundle = functionsBundle) => `await import(${JSON.stringify(pathToFileURL(bundle).href)});`;
