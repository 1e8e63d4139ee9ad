import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const functionsBundle = join(root, "dist", "functions", "main.js");

/**
 * The Functions worker hands @azure/functions a module named "@azure/functions-core" and
 * receives every registration through it. This stand-in records them, so the test sees
 * exactly what the real host would be told by the bundle that package.json "main" names.
 */
const workerStandIn = `
const registrations = [];
globalThis.__registrations = registrations;
module.exports = {
  setProgrammingModel() {},
  getProgrammingModel() {},
  registerHook() { return { dispose() {} }; },
  registerFunction(metadata, callback) { registrations.push({ metadata, callback }); return { dispose() {} }; },
  log() {},
};
`;

const driver = (bundle: string) => `
const { HttpRequest, InvocationContext } = (await import("@azure/functions")).default;
await import(${JSON.stringify(pathToFileURL(bundle).href)});
const registrations = globalThis.__registrations;
const summary = registrations.map(({ metadata }) => {
  const trigger = Object.values(metadata.bindings).find((b) => b.type === "httpTrigger");
  return { name: metadata.name, route: trigger.route, methods: trigger.methods, authLevel: trigger.authLevel };
});
const execute = registrations.find((r) => r.metadata.name === "plugins-execute");
const response = await execute.callback(
  new HttpRequest({ method: "POST", url: "http://localhost/api/plugins/execute", body: { string: JSON.stringify({ plugin: "calculator", data: { expression: "2+3*4" } }) } }),
  new InvocationContext({ functionName: "plugins-execute" }),
);
console.log(JSON.stringify({ summary, response: { status: response.status ?? 200, body: response.jsonBody } }));
process.exit(0);
`;

let nodePath: string;

beforeAll(() => {
  nodePath = mkdtempSync(join(tmpdir(), "functions-core-"));
  mkdirSync(join(nodePath, "@azure", "functions-core"), { recursive: true });
  writeFileSync(join(nodePath, "@azure", "functions-core", "index.js"), workerStandIn);
});

afterAll(() => rmSync(nodePath, { recursive: true, force: true }));

describe("the Functions bundle (package.json main)", () => {
  it("registers the five HTTP functions with their routes and runs the same handlers", () => {
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", driver(functionsBundle)], {
      cwd: root,
      env: { PATH: process.env.PATH, NODE_PATH: nodePath, STORAGE_CONNECTION_STRING: inject("storageConnectionString") },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.stderr).not.toMatch(/test mode/);
    expect(result.status, result.stderr).toBe(0);
    const { summary, response } = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
    expect(summary).toEqual([
      { name: "health", route: "health", methods: ["GET"], authLevel: "anonymous" },
      { name: "plugins-list", route: "plugins", methods: ["GET"], authLevel: "anonymous" },
      { name: "plugins-execute", route: "plugins/execute", methods: ["POST"], authLevel: "anonymous" },
      { name: "chat", route: "chat", methods: ["POST"], authLevel: "anonymous" },
      { name: "memory-audit", route: "memory/audit/{sessionId}", methods: ["GET"], authLevel: "anonymous" },
    ]);
    expect(response).toMatchObject({ status: 200, body: { status: "success", plugin: "calculator", result: 14 } });
  });

  it("fails to load with one readable message when no storage is configured", () => {
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", `await import(${JSON.stringify(pathToFileURL(functionsBundle).href)})`], {
      cwd: root,
      env: { PATH: process.env.PATH, NODE_PATH: nodePath },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/STORAGE_CONNECTION_STRING .* or STORAGE_ACCOUNT_NAME .* must be set/);
  });
});
