import { spawn, type ChildProcess } from "node:child_process";
import { Agent, request as httpRequest } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../support/free_port.js";
import { processesWith, sleepMarker, waitFor } from "../support/processes.js";

/**
 * SIGTERM to the bundled local host (`npm start -- --local`) under keep-alive load, over real
 * sockets on loopback: what a platform stopping an instance, or a developer pressing Ctrl-C, sees.
 */

const root = join(import.meta.dirname, "..", "..");
const startBundle = join(root, "dist", "src", "host", "start.js");

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

interface Started {
  readonly process: ChildProcess;
  readonly port: number;
  /** Everything it printed so far. */
  output(): string;
  /** Resolves with the time at which its output first matched. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<number>;
  readonly exited: Promise<number | null>;
}

async function startHost(settings: Record<string, string>): Promise<Started> {
  const port = await freePort();
  // The environment of a fresh clone (embedded Azurite, in-process memory) plus the test's settings.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), ...settings };
  const started = spawn(process.execPath, [startBundle, "--local"], { env, stdio: "pipe" });
  child = started;
  let output = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  started.stdout.on("data", onData);
  started.stderr.on("data", onData);
  const exited = new Promise<number | null>((resolve) => started.once("exit", (code) => resolve(code)));
  const waitForOutput = (pattern: RegExp, timeoutMs: number) =>
    new Promise<number>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(output)) return;
        done();
        resolve(Date.now());
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out waiting for ${pattern}; output so far:\n${output}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  await waitForOutput(/listening on/, 30_000);
  return { process: started, port, output: () => output, waitForOutput, exited };
}

interface Outcome {
  readonly label: string;
  readonly sentAt: number;
  /** Every byte of the request was handed to the connection. */
  written: boolean;
  status?: number;
  connection?: string | undefined;
  body?: any;
  answeredAt?: number;
  error?: string;
}

/** One POST /api/plugins/execute; resolves with what became of it, never rejects. */
function execute(port: number, agent: Agent | false, label: string, plugin: string, data: unknown): Promise<Outcome> {
  const body = JSON.stringify({ plugin, data });
  const outcome: Outcome = { label, sentAt: Date.now(), written: false };
  return new Promise((resolve) => {
    const fail = (error: NodeJS.ErrnoException) => {
      if (outcome.error === undefined && outcome.answeredAt === undefined) outcome.error = error.code ?? error.message;
      resolve(outcome);
    };
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/api/plugins/execute",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          outcome.status = res.statusCode;
          outcome.connection = res.headers.connection;
          outcome.answeredAt = Date.now();
          try {
            outcome.body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
          } catch {
            outcome.body = Buffer.concat(chunks).toString("utf8");
          }
          resolve(outcome);
        });
        res.on("error", fail);
      },
    );
    req.on("finish", () => (outcome.written = true));
    req.on("error", fail);
    req.end(body);
  });
}

describe("graceful shutdown of the local host", () => {
  it("on SIGTERM under keep-alive load answers every request it received, closes the connections, shuts plugins down and exits 0", async () => {
    const host = await startHost({ SHELL_PLUGIN_ALLOWED_COMMANDS: "sleep" });
    const outcomes: Outcome[] = [];
    // A bounded load: six clients, each sending its next request as soon as its last is answered, on kept-alive connections.
    const agent = new Agent({ keepAlive: true, maxSockets: 6 });
    let stopLoad = false;
    const client = async (label: string, plugin: string, data: unknown) => {
      while (!stopLoad) {
        const outcome = await execute(host.port, agent, label, plugin, data);
        outcomes.push(outcome);
        // Once the host refuses or drops a connection there is nothing more to learn from this client.
        if (outcome.error !== undefined) return;
      }
    };
    const clients = [
      ...[1, 2, 3, 4].map((n) => client(`echo-${n}`, "echo", { text: `hello ${n}` })),
      ...[1, 2].map((n) => client(`slow-${n}`, "shell", { command: "sleep 0.5" })),
    ];
    // Bounds the load whatever the host does (the old host kept serving busy connections).
    const loadDeadline = setTimeout(() => (stopLoad = true), 15_000);
    try {
      await waitFor(() => outcomes.filter((o) => o.label.startsWith("slow") && o.status === 200).length >= 2 && outcomes.length >= 100, 10_000);

      // A request that is surely in flight when the signal arrives: it must still be answered, and with Connection: close.
      const long = execute(host.port, false, "long", "shell", { command: "sleep 1" });
      await new Promise((resolve) => setTimeout(resolve, 150));
      const signalledAt = Date.now();
      host.process.kill("SIGTERM");
      const shutdownLoggedAt = await host.waitForOutput(/SIGTERM received, shutting down/, 5000);

      expect(await host.exited).toBe(0);
      const exitedAt = Date.now();
      stopLoad = true;
      await Promise.all(clients);
      const longOutcome = await long;
      outcomes.push(longOutcome);

      // The request in flight was answered in full, after the signal, and its connection closed with it.
      expect(longOutcome).toMatchObject({ written: true, status: 200, connection: "close", body: { status: "success", plugin: "shell" } });
      expect(longOutcome.answeredAt!).toBeGreaterThan(signalledAt + 500);
      // Every request whose bytes were sent got a complete, successful answer: nothing read and then dropped.
      const unanswered = outcomes.filter((o) => o.written && o.answeredAt === undefined);
      expect(unanswered, JSON.stringify(unanswered)).toEqual([]);
      for (const outcome of outcomes.filter((o) => o.answeredAt !== undefined)) {
        expect(outcome, JSON.stringify(outcome)).toMatchObject({ status: 200, body: { status: "success" } });
      }
      // The only failures: connections the host refused once it had stopped listening.
      const failures = outcomes.filter((o) => o.answeredAt === undefined);
      expect(
        failures.every((o) => o.error === "ECONNREFUSED" && !o.written),
        JSON.stringify(failures),
      ).toBe(true);
      // Each client stopped when refused: its connection was closed by the host, not kept serving.
      expect(failures.length).toBe(6);
      // Whatever was sent once the host was shutting down, or answered well after the signal, closed its connection.
      const late = outcomes.filter((o) => o.answeredAt !== undefined && (o.sentAt > shutdownLoggedAt || o.answeredAt > signalledAt + 300));
      expect(late.length).toBeGreaterThan(0);
      for (const outcome of late) expect(outcome.connection, JSON.stringify(outcome)).toBe("close");
      // Without a cut the host drained as soon as the last answer was out, not at the grace period's end.
      expect(exitedAt - signalledAt).toBeLessThan(5000);
      expect(host.output()).toMatch(/every request received was answered/);
      expect(host.output()).toMatch(/plugins shut down .*"shell"/);
      expect(host.output()).toMatch(/plugins shut down .*"echo"/);
    } finally {
      clearTimeout(loadDeadline);
      stopLoad = true;
      agent.destroy();
    }
  }, 60_000);

  it("cuts a request still running when a short grace period ends, says how many, stops its command and exits 1", async () => {
    const marker = sleepMarker();
    const host = await startHost({ SHELL_PLUGIN_ALLOWED_COMMANDS: "sleep", SHELL_PLUGIN_TIMEOUT_MS: "60000", SHUTDOWN_GRACE_MS: "300" });
    const running = execute(host.port, false, "long", "shell", { command: `sleep ${marker}` });
    await waitFor(() => processesWith(marker).length > 0, 10_000);
    const signalledAt = Date.now();
    host.process.kill("SIGTERM");

    expect(await host.exited).toBe(1);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(host.output()).toMatch(/1 request cut/);
    expect(host.output()).toMatch(/plugins shut down .*"shell"/);
    // The client learns that its request was cut: the connection goes, no answer comes.
    const outcome = await running;
    expect(outcome.answeredAt).toBeUndefined();
    expect(outcome.error).toBeDefined();
    await waitFor(() => processesWith(marker).length === 0, 2000);
  }, 60_000);
});
