import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free_port.js";

const root = join(import.meta.dirname, "..", "..");
const startBundle = join(root, "dist", "src", "host", "start.js");
const cliBundle = join(root, "dist", "src", "cli", "main.js");

/** The environment of a fresh clone: nothing of this project configured. */
function bareEnvironment(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, ...extra };
}

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
});

function waitForOutput(process: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (pattern.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    process.stdout?.on("data", onData);
    process.stderr?.on("data", onData);
    process.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before ${pattern}; output:\n${output}`));
    });
  });
}

describe("the bundled local host (npm start)", () => {
  it("starts with nothing configured, serves the API on embedded Azurite and memory, and stops on SIGTERM", async () => {
    const port = await freePort();
    // --local: the local host even where Azure Functions Core Tools happens to be installed.
    child = spawn(process.execPath, [startBundle, "--local"], {
      env: bareEnvironment({ PORT: String(port), SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" }),
      stdio: "pipe",
    });
    const output = await waitForOutput(child, /listening on/, 30_000);
    expect(output.match(/AUTH_MODE is none/g)).toHaveLength(1);
    expect(output).toMatch(/started Azurite in this process/);
    expect(output).toMatch(/REDIS_URL is not set, using in-process memory/);
    const base = `http://127.0.0.1:${port}/api`;

    const plugins = (await (await fetch(`${base}/plugins`)).json()) as any;
    expect(plugins.plugins.map((p: any) => p.name)).toContain("calculator");

    const execute = await fetch(`${base}/plugins/execute`, { method: "POST", body: JSON.stringify({ plugin: "calculator", data: { expression: "2+3*4" } }) });
    expect(await execute.json()).toMatchObject({ status: "success", result: 14 });

    // An asynchronous run goes through the queue, which the local host polls itself.
    const queued = await fetch(`${base}/plugins/execute`, {
      method: "POST",
      body: JSON.stringify({ plugin: "calculator", data: { expression: "2+3*4" }, async: true }),
    });
    expect(queued.status).toBe(202);
    const location = queued.headers.get("location")!;
    let run: any;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
      run = await (await fetch(`http://127.0.0.1:${port}${location}`)).json();
      if (run.state === "succeeded" || run.state === "failed") break;
    }
    expect(run).toMatchObject({ state: "succeeded", result: 14 });

    const chat = (await (await fetch(`${base}/chat`, { method: "POST", body: JSON.stringify({ message: "/run echo hello" }) })).json()) as any;
    expect(chat).toMatchObject({ reply: "hello", source: "plugin" });

    // The original guide's shell example works for the one local caller once echo is allowed.
    const shell = await fetch(`${base}/chat`, { method: "POST", body: JSON.stringify({ message: "/run shell echo hello" }) });
    expect(shell.status).toBe(200);
    expect(await shell.json()).toMatchObject({ reply: "hello", source: "plugin", plugin: "shell" });

    const audit = (await (await fetch(`${base}/memory/audit/${chat.sessionId}`)).json()) as any;
    expect(audit.entries.map((e: any) => e.type)).toEqual(["user_message", "plugin_run", "reply"]);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);

    // npm start is an MCP server too (on the current revision); the bundle loads the SDK's chunk on this first MCP request.
    const mcp = new Client({ name: "npm-start-test", version: "1.0.0" }, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    const called = await mcp.callTool({ name: "calculator", arguments: { expression: "2+3*4" } });
    expect(called.content).toEqual([{ type: "text", text: "14" }]);
    await mcp.close();

    let shutdownOutput = "";
    child.stdout?.on("data", (chunk: Buffer) => (shutdownOutput += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    // The plugins that ran were initialised, so they are shut down on the way out; the others never were.
    expect(shutdownOutput).toMatch(/plugins shut down .*"calculator"/);
    expect(shutdownOutput).not.toMatch(/plugins shut down .*"memory"/);
  });

  it("refuses to start with a bad setting, naming it in one readable message", () => {
    const result = spawnSync(process.execPath, [startBundle, "--local"], {
      env: bareEnvironment({ PORT: "not-a-port", REDIS_URL: "http://user:hunter2@cache" }),
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/Invalid configuration/);
    expect(result.stderr).toMatch(/PORT/);
    expect(result.stderr).toMatch(/REDIS_URL/);
    expect(result.stderr).not.toMatch(/hunter2/);
    expect(result.stderr).not.toMatch(/\bat .+\.js:\d+/);
  });
});

describe("the bundled CLI (npm run plugin)", () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [cliBundle, ...args], { env: bareEnvironment(), encoding: "utf8", timeout: 20_000 });

  it("lists the plugins", () => {
    const result = cli("list");
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^calculator\b/m);
    expect(result.stdout).toMatch(/^echo \(test\)/m);
  });

  it("runs a plugin through the same runtime as the API", () => {
    const result = cli("run", "calculator", "2+3*4");
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe("14");
  });

  it("shuts its plugins down on SIGINT, so a running command does not outlive it", async () => {
    const marker = `30.${process.pid}${Date.now() % 1000}`;
    child = spawn(process.execPath, [cliBundle, "run", "shell", `sleep ${marker}`], {
      env: bareEnvironment({ SHELL_PLUGIN_ALLOWED_COMMANDS: "sleep", SHELL_PLUGIN_TIMEOUT_MS: "60000" }),
      stdio: "pipe",
    });
    const running = () =>
      spawnSync("ps", ["-eo", "args"], { encoding: "utf8" })
        .stdout.split("\n")
        .some((l) => l.trim() === `sleep ${marker}`);
    const deadline = Date.now() + 10_000;
    while (!running() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(running()).toBe(true);
    const started = Date.now();
    const exited = new Promise<number | null>((resolve) => child!.once("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(running()).toBe(false);
  });

  it("reports a failing run with its code and a non-zero exit", () => {
    const result = cli("run", "calculator", "1/0");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/error invalid_input: Division by zero/);
  });
});
