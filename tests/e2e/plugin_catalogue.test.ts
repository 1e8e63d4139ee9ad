import { execFile } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { HuggingFaceStandIn, replies } from "../support/hugging_face_stand_in.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

const token = "hf_e2e_token_0123456789";
let standIn: HuggingFaceStandIn;
let services: Services;
let host: LocalHost;
let pluginSettings: Record<string, string>;

beforeAll(async () => {
  standIn = await HuggingFaceStandIn.start();
  pluginSettings = { SHELL_PLUGIN_ALLOWED_COMMANDS: "echo,printf", HF_TOKEN: token, HF_ENDPOINT: standIn.url, HF_MAX_RETRIES: "2" };
  services = integrationServices({ config: integrationConfig(pluginSettings) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

beforeEach(() => standIn.reset());

afterAll(async () => {
  await host.close();
  await services.close();
  await standIn.close();
});

async function post(path: string, body: unknown) {
  const response = await fetch(`${host.url}${path}`, { method: "POST", body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as any };
}

const execute = (plugin: string, data: unknown, sessionId?: string) => post("/api/plugins/execute", { plugin, data, sessionId });
const chat = (message: string, sessionId?: string) => post("/api/chat", { message, sessionId });

/** Runs the CLI bundle without blocking this process, which also serves the Hugging Face stand-in. */
function cli(env: Record<string, string>, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const bundle = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
  return new Promise((resolve) => {
    execFile(process.execPath, [bundle, ...args], { env: { PATH: process.env.PATH, ...env }, encoding: "utf8", timeout: 30_000 }, (error, stdout, stderr) => {
      const status = error ? (typeof error.code === "number" ? error.code : null) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

describe("every plugin answers through HTTP, chat /run and the CLI", () => {
  it("echo", async () => {
    expect((await execute("echo", { text: "hi" })).body.result).toBe("hi");
    expect((await chat("/run test hi")).body.reply).toBe("hi");
    expect((await cli({}, "run", "echo", "hi")).stdout.trim()).toBe("hi");
  });

  it("calculator, with functions and constants", async () => {
    expect((await execute("calculator", { expression: "max(2, sqrt(16))^2 + round(pi)" })).body.result).toBe(19);
    expect((await chat("/run calculator abs(-2.5) * 2")).body.reply).toBe("5");
    expect((await cli({}, "run", "calculator", "2+3*4")).stdout.trim()).toBe("14");
  });

  it("memory: note, list, search and clear on a session", async () => {
    const sessionId = `catalogue-${Date.now()}`;
    expect((await execute("memory", { action: "note", text: "blue car" }, sessionId)).body.result).toEqual({ stored: true, note: "blue car" });
    // A turn's messages reach memory together when the turn is recorded, so the search does not find its own message.
    expect((await chat("/run memory search BLUE", sessionId)).body.reply.split("\n")).toEqual(["note: blue car"]);
    // Once recorded, the turn is there: the question, then the answer.
    expect((await execute("memory", { action: "search", query: "blue" }, sessionId)).body.result.matches.map((m: any) => m.role)).toEqual([
      "note",
      "user",
      "assistant",
    ]);
    expect((await execute("memory", { action: "list", limit: 1 }, sessionId)).body.result.messages).toHaveLength(1);
    expect((await chat("/run memory clear", sessionId)).body.reply).toMatch(/^Cleared/);
    // Through the CLI, on the same Redis memory and audit log as the API.
    const storage = {
      REDIS_URL: inject("redisUrl"),
      STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
      SESSION_MEMORY_KEY_PREFIX: services.config.memory.keyPrefix,
      AUDIT_TABLE_NAME: services.config.audit.tableName,
    };
    const noted = await cli(storage, "run", "memory", "note from the cli", "--session", sessionId);
    expect(noted.status, noted.stderr).toBe(0);
    expect((await cli(storage, "run", "memory", "list", "--session", sessionId)).stdout).toContain("note: from the cli");
    expect((await execute("memory", { action: "search", query: "from the cli" }, sessionId)).body.result.matches).toHaveLength(1);
    // Without storage, a run that must be audited says why it cannot.
    const unaudited = await cli({}, "run", "memory", "list", "--session", sessionId);
    expect(unaudited.status).toBe(1);
    expect(unaudited.stderr).toMatch(/storage_unavailable/);
  });

  it("shell (openinterpreter): runs an allowed command without a shell", async () => {
    const run = await execute("shell", { command: 'echo hello "big world" $HOME' });
    expect(run.status).toBe(200);
    expect(run.body.result).toMatchObject({ exitCode: 0, stdout: "hello big world $HOME\n", truncated: false });
    expect((await chat("/run shell echo hello")).body.reply).toBe("hello");
    expect((await chat("/run openinterpreter printf abc")).body.reply).toBe("abc");
    const viaCli = await cli({ SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" }, "run", "shell", "echo hello");
    expect(viaCli.status).toBe(0);
    expect(viaCli.stdout.trim()).toBe("hello");
  });

  it("shell: refuses what is not allowed, with stable codes", async () => {
    const notAllowed = await execute("shell", { command: "cat /etc/passwd" });
    expect(notAllowed.status).toBe(403);
    expect(notAllowed.body.error.code).toBe("command_not_allowed");
    const chained = await execute("shell", { command: "echo a; echo b" });
    expect(chained.status).toBe(400);
    expect(chained.body.error.code).toBe("invalid_input");
    const disabled = await cli({}, "run", "shell", "echo hi");
    expect(disabled.status).toBe(1);
    expect(disabled.stderr).toMatch(/error plugin_disabled/);
  });

  it("huggingface: classifies text through the client, with the token as a bearer", async () => {
    const run = await execute("huggingface", { inputs: "I love this" });
    expect(run.status).toBe(200);
    expect(run.body.result).toMatchObject({ task: "text-classification", labels: [{ label: "POSITIVE" }, { label: "NEGATIVE" }] });
    expect(standIn.requests[0]).toMatchObject({ method: "POST", authorization: `Bearer ${token}` });
    expect((await chat("/run huggingface what a great day")).body.reply).toMatch(/POSITIVE/);
    const viaCli = await cli({ HF_TOKEN: token, HF_ENDPOINT: standIn.url }, "run", "huggingface", "I love this");
    expect(viaCli.status, viaCli.stderr).toBe(0);
    expect(viaCli.stdout).toMatch(/POSITIVE/);
  });

  it("huggingface: retries a 429 and a 503, and gives up on persistent 500s with upstream_unavailable", async () => {
    standIn.script(replies.rateLimited("0"), replies.modelLoading(0.01));
    const recovered = await execute("huggingface", { inputs: "fine" });
    expect(recovered.status).toBe(200);
    expect(standIn.requests).toHaveLength(3);

    standIn.reset();
    standIn.answerEveryRequestWith(replies.serverError());
    const failed = await execute("huggingface", { inputs: "fine" });
    expect(failed.status).toBe(502);
    expect(failed.body.error).toMatchObject({ code: "upstream_unavailable", details: { status: 500, attempts: 3 } });
    expect(JSON.stringify(failed.body)).not.toContain(token);
  });
});
