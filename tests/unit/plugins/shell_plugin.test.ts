import { existsSync, mkdtempSync, readdirSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, it, expect, vi } from "vitest";
import type { AnyPlugin } from "../../../src/plugins/plugin.js";
import { httpStatusOf } from "../../../src/errors/error_codes.js";
import { errorResponse } from "../../../src/http/api_response.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";
import { ShellPlugin, type ShellResult } from "../../../plugins/shell_plugin.js";
import { processesWith, sleepMarker, waitFor } from "../../support/processes.js";

const allowed = "echo,touch,env,pwd,sh,sleep,false,yes,head,ls,cat,no-such-command-for-the-test";

function shell(environment: Record<string, string> = {}): ShellPlugin {
  return new ShellPlugin(pluginEnvironment({ SHELL_PLUGIN_ALLOWED_COMMANDS: allowed, ...environment }));
}

const plugin = shell();
const context = pluginContext();

function run(command: string, on: AnyPlugin = plugin, runContext = context): Promise<ShellResult> {
  return on.execute({ command }, runContext) as Promise<ShellResult>;
}

/** Where the commands of the marker tests would write, if they ran. */
const outside = mkdtempSync(join(tmpdir(), "shell-test-outside-"));
afterAll(() => rmSync(outside, { recursive: true, force: true }));

afterEach(() => {
  vi.unstubAllEnvs();
  for (const entry of readdirSync(outside)) rmSync(join(outside, entry), { recursive: true, force: true });
});

/** The working directories the plugin has not removed. */
function workDirs(): string[] {
  return readdirSync(tmpdir()).filter((entry) => entry.startsWith("shell-plugin-"));
}

describe("ShellPlugin metadata", () => {
  it("is named shell with the alias openinterpreter, is never cached, and uses its own timeout", () => {
    const custom = shell({ SHELL_PLUGIN_TIMEOUT_MS: "1234", SHELL_PLUGIN_MAX_OUTPUT_BYTES: "2048" });
    expect(custom.name).toBe("shell");
    expect(custom.aliases).toEqual(["openinterpreter"]);
    expect(custom.timeoutMs).toBe(1234);
    expect((custom as AnyPlugin).cacheTtlSeconds).toBeUndefined();
    expect(custom.description).toContain("Allowed commands: echo, touch");
    expect(custom.description).toContain("1234 ms");
    expect(custom.description).toContain("2048 bytes");
    expect(custom.description).toContain("may only use paths inside it");
    expect(custom.description).toContain("path_not_allowed");
  });

  it("warns when the allow-list holds a program that runs other programs", () => {
    const warnings: unknown[] = [];
    const environment = pluginEnvironment({ SHELL_PLUGIN_ALLOWED_COMMANDS: "echo,env,sh" });
    new ShellPlugin({ ...environment, logger: { ...environment.logger, warn: (...args: unknown[]) => warnings.push(args) } });
    expect(warnings).toEqual([["the shell plugin allows commands that can run any other command", { commands: ["env", "sh"] }]]);
  });

  it("accepts { command }, trimmed, and reads /run text as the command", () => {
    expect(plugin.inputSchema.safeParse({ command: "  echo hi " })).toMatchObject({ success: true, data: { command: "echo hi" } });
    expect(plugin.inputSchema.safeParse({ command: "x".repeat(4000) }).success).toBe(true);
    expect(plugin.inputFromText("echo hello")).toEqual({ command: "echo hello" });
  });

  it.each<[string, unknown]>([
    ["missing command", {}],
    ["empty command", { command: "" }],
    ["whitespace-only command", { command: "  " }],
    ["over-long command", { command: "x".repeat(4001) }],
    ["an argument list instead of a line", { command: ["echo", "hi"] }],
    ["an extra key", { command: "echo", cwd: "/" }],
    ["not an object", "echo hi"],
  ])("rejects %s", (_label, input) => {
    expect(plugin.inputSchema.safeParse(input).success).toBe(false);
  });
});

describe("ShellPlugin when no command is allowed", () => {
  it("is disabled", async () => {
    const disabled = new ShellPlugin(pluginEnvironment());
    expect(disabled.description).toMatch(/^Disabled/);
    await expect(run("echo hello", disabled)).rejects.toMatchObject({
      code: "plugin_disabled",
      message: "the shell plugin is disabled: set SHELL_PLUGIN_ALLOWED_COMMANDS to the executables it may run",
    });
  });
});

describe("ShellPlugin runs one command", () => {
  it("runs echo hello", async () => {
    const result = await run("echo hello");
    expect(result).toMatchObject({ command: "echo hello", exitCode: 0, signal: null, stdout: "hello\n", stderr: "", truncated: false });
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
    expect(plugin.formatReply(result)).toBe("hello");
  });

  it("keeps quoted arguments together", async () => {
    const result = await run(`sh -c 'printf "[%s]" "$@"' sh "a b" 'c d' e\\ f`);
    expect(result.stdout).toBe("[a b][c d][e f]");
  });

  it("does not expand variables or command substitution in single quotes", async () => {
    const result = await run(`echo $HOME \${PATH} "$USER" '$(id)' '\`id\`'`);
    expect(result.stdout).toBe("$HOME $PATH $USER $(id) `id`\n");
  });

  it("reports a non-zero exit as a result, not an error", async () => {
    expect(await run("false")).toMatchObject({ exitCode: 1, signal: null });
    const result = await run(`sh -c "echo out; echo oops >&2; exit 3"`);
    expect(result).toMatchObject({ exitCode: 3, stdout: "out\n", stderr: "oops\n" });
    expect(plugin.formatReply(result)).toBe("exit code 3\nout\noops");
  });

  it("answers invalid_input when the allowed command does not exist", async () => {
    await expect(run("no-such-command-for-the-test --version")).rejects.toMatchObject({
      code: "invalid_input",
      message: "command not found: no-such-command-for-the-test",
    });
  });
});

describe("ShellPlugin allows only the listed executables, by name", () => {
  it("rejects a command that is not allowed", async () => {
    await expect(run("ls -la", shell({ SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" }))).rejects.toMatchObject({
      code: "command_not_allowed",
      details: { command: "ls", allowed: ["echo"] },
    });
  });

  it.each(["/bin/echo hi", "/usr/bin/echo hi", "./echo hi", "'/bin/echo' hi"])("rejects the path in %s", async (command) => {
    await expect(run(command)).rejects.toMatchObject({ code: "command_not_allowed", details: { allowed: allowed.split(",") } });
  });

  it("checks the allow-list before anything runs", async () => {
    await expect(run(`rm ${outside}`)).rejects.toMatchObject({ code: "command_not_allowed" });
  });
});

describe("ShellPlugin rejects shell syntax without running anything", () => {
  it("runs touch on paths outside its directory through sh (the control for the cases below)", async () => {
    // Arguments naming such paths are refused (see below); a script given to sh is one word that
    // stays inside, which is why sh allows everything.
    await run(`sh -c "touch '${outside}/ok' '${outside}/a;b'"`);
    expect(readdirSync(outside).sort()).toEqual(["a;b", "ok"]);
  });

  it.each<[string, string]>([
    ["touch {}/a; touch {}/b", ";"],
    ["touch {}/a | touch {}/b", "|"],
    ["touch {}/a || touch {}/b", "||"],
    ["touch {}/a && touch {}/b", "&&"],
    ["touch {}/a & touch {}/b", "&"],
    ["echo x > {}/marker", ">"],
    ["echo x > marker", ">"],
    ["echo x >> {}/marker", ">>"],
    ["touch {}/a < {}/b", "<"],
    ["touch {}/a 2>&1", ">&"],
    ["touch {}/$(echo a)", "$("],
    ['touch "{}/$(echo a)"', "$("],
    ["touch {}/`echo a`", "`"],
    ["touch {}/a # and a comment", "#"],
    ["touch {}/a\ntouch {}/b", "newline"],
  ])("%s → invalid_input (%s)", async (template, operator) => {
    await expect(run(template.replaceAll("{}", outside))).rejects.toMatchObject({ code: "invalid_input", details: { operator } });
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync(join(process.cwd(), "marker"))).toBe(false);
  });

  it("rejects a glob", async () => {
    await expect(run(`touch ${outside}/*`)).rejects.toMatchObject({ code: "invalid_input", details: { operator: "glob" } });
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe("ShellPlugin isolates the command", () => {
  it("gives the command a scrubbed environment", async () => {
    vi.stubEnv("TEST_SECRET_TOKEN", "s3cret");
    vi.stubEnv("AZURE_CLIENT_SECRET", "azure-s3cret");
    vi.stubEnv("REDIS_URL", "redis://:s3cret@cache:6379");
    vi.stubEnv("HF_TOKEN", "hf_s3cret");
    vi.stubEnv("STORAGE_CONNECTION_STRING", "AccountKey=s3cret");
    vi.stubEnv("IDENTITY_HEADER", "identity-s3cret");
    vi.stubEnv("MSI_SECRET", "msi-s3cret");
    const result = await run("env");
    expect(result.stdout).not.toContain("s3cret");
    const variables = Object.fromEntries(
      result.stdout
        .trim()
        .split("\n")
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    for (const name of Object.keys(variables)) expect(["PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR"]).toContain(name);
    expect(variables.PATH).toBeTruthy();
    expect(variables.HOME).toMatch(/shell-plugin-/);
    expect(variables.TMPDIR).toBe(variables.HOME);
  });

  it("runs in a fresh temporary directory that is removed afterwards", async () => {
    const first = (await run("pwd")).stdout.trim();
    const second = (await run("pwd")).stdout.trim();
    expect(first.startsWith(join(realpathSync(tmpdir()), "shell-plugin-"))).toBe(true);
    expect(second).not.toBe(first);
    expect(existsSync(first)).toBe(false);
    expect(existsSync(second)).toBe(false);
  });

  it("removes the directory with whatever the command wrote into it", async () => {
    const result = await run(`sh -c 'mkdir -p deep/er && echo x > deep/er/file && chmod 000 deep && pwd'`);
    expect(result.exitCode).toBe(0);
    expect(existsSync(result.stdout.trim())).toBe(false);
  });

  it("ends background processes the command left behind when it exits", async () => {
    const marker = sleepMarker();
    const result = await run(`sh -c "sleep ${marker} & sleep 0.1; echo started"`);
    expect(result).toMatchObject({ exitCode: 0, stdout: "started\n" });
    expect(result.durationMs).toBeLessThan(1000);
    expect(processesWith(marker)).toEqual([]);
  });
});

describe("ShellPlugin keeps arguments inside its working directory", () => {
  const message = (argument: string, reason: string) =>
    `the argument ${JSON.stringify(argument)} ${reason}: the command may only use paths inside its own temporary working directory`;

  it.each<[string, string, string]>([
    ["ls /root", "/root", "is an absolute path"],
    ["ls ..", "..", "resolves outside the working directory"],
    ["ls ~", "~", "starts with ~ (a home directory)"],
    ["ls -la /root", "/root", "is an absolute path"],
    ["cat ../x", "../x", "resolves outside the working directory"],
    ["ls --directory=/etc", "--directory=/etc", "is an absolute path"],
    ["ls -d/etc", "-d/etc", "is an absolute path"],
    ["cat a/../../x", "a/../../x", "resolves outside the working directory"],
    [`touch '{}/marker'`, "{}/marker", "is an absolute path"],
  ])("%s → path_not_allowed, nothing runs, the directory is removed", async (template, argument, reason) => {
    const before = workDirs();
    const command = template.replaceAll("{}", outside);
    const expected = argument.replaceAll("{}", outside);
    await expect(run(command)).rejects.toMatchObject({
      code: "path_not_allowed",
      message: message(expected, reason),
      details: { argument: expected },
    });
    expect(readdirSync(outside)).toEqual([]);
    expect(workDirs()).toEqual(before);
  });

  it("answers 403 with the code, message and argument", async () => {
    const error = await run("ls /root").catch((thrown: unknown) => thrown);
    expect(httpStatusOf("path_not_allowed")).toBe(403);
    expect(errorResponse(error, silentLogger)).toEqual({
      status: 403,
      jsonBody: {
        status: "error",
        error: { code: "path_not_allowed", message: message("/root", "is an absolute path"), details: { argument: "/root" } },
      },
    });
  });

  it("still runs commands whose paths stay inside", async () => {
    expect(await run("ls")).toMatchObject({ exitCode: 0, stdout: "" });
    expect(await run("ls .")).toMatchObject({ exitCode: 0, stdout: "" });
    expect(await run("ls -la ./")).toMatchObject({ exitCode: 0 });
    expect(await run("echo hello/world")).toMatchObject({ exitCode: 0, stdout: "hello/world\n" });
    expect(await run("touch a b")).toMatchObject({ exitCode: 0 });
    // a/../b resolves to b, inside: cat runs and reports the missing file itself.
    expect(await run("cat a/../b")).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("a/../b") });
  });
});

describe("ShellPlugin limits output", () => {
  const small = shell({ SHELL_PLUGIN_MAX_OUTPUT_BYTES: "1024" });

  it.each(["yes", `sh -c "head -c 200000 /dev/zero"`])("cuts %s at the limit and stops it", async (command) => {
    const started = Date.now();
    const result = await run(command, small);
    expect(result.truncated).toBe(true);
    expect(Buffer.byteLength(result.stdout)).toBeLessThanOrEqual(1024);
    expect(result.stdout.length).toBeGreaterThan(0);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(small.formatReply(result)).toContain("[output cut at 1024 bytes; the command was stopped]");
  });

  it("limits stderr too", async () => {
    const result = await run(`sh -c "echo fine; yes error >&2"`, small);
    expect(result).toMatchObject({ truncated: true, stdout: "fine\n" });
    expect(Buffer.byteLength(result.stderr)).toBeLessThanOrEqual(1024);
  });
});

describe("ShellPlugin stops commands that run too long", () => {
  it("kills the whole process tree when its own time limit passes", async () => {
    const quick = shell({ SHELL_PLUGIN_TIMEOUT_MS: "500" });
    const marker = sleepMarker();
    const before = workDirs();
    const running = run(`sh -c "sleep ${marker} & sleep ${marker}"`, quick);
    await waitFor(() => processesWith(marker).length === 2);
    await expect(running).rejects.toMatchObject({
      code: "plugin_failed",
      message: "command timed out after 500 ms",
      details: { timeoutMs: 500 },
    });
    expect(processesWith(marker)).toEqual([]);
    expect(workDirs()).toEqual(before);
  });

  it("kills the whole process tree when the run's signal aborts, and rejects with its reason", async () => {
    const controller = new AbortController();
    const marker = sleepMarker();
    const started = Date.now();
    const running = run(`sh -c "sleep ${marker} & sleep ${marker}"`, plugin, pluginContext({ signal: controller.signal }));
    await waitFor(() => processesWith(marker).length === 2);
    const reason = new Error("the runner gave up");
    controller.abort(reason);
    await expect(running).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(processesWith(marker)).toEqual([]);
  });

  it("does not start a command when the signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort(new Error("too late"));
    await expect(run(`sh -c "touch '${outside}/late'"`, plugin, pluginContext({ signal: controller.signal }))).rejects.toThrow("too late");
    expect(readdirSync(outside)).toEqual([]);
  });
});

describe("ShellPlugin.shutdown", () => {
  it("kills the commands still running, and runs none until initialised again", async () => {
    const own = shell();
    const marker = sleepMarker();
    const running = run(`sh -c "sleep ${marker} & sleep ${marker}"`, own);
    await waitFor(() => processesWith(marker).length === 2);
    await own.shutdown();
    await expect(running).rejects.toMatchObject({
      code: "plugin_failed",
      message: "the command was stopped because the service is shutting down",
    });
    expect(processesWith(marker)).toEqual([]);
    await expect(run("echo again", own)).rejects.toMatchObject({ code: "plugin_failed", message: "the shell plugin is shutting down" });
    await own.initialize();
    expect((await run("echo again", own)).stdout).toBe("again\n");
  });

  it("waits until a run the caller gave up on has removed its working directory", async () => {
    const own = shell();
    const controller = new AbortController();
    const marker = sleepMarker();
    const before = workDirs();
    const running = run(`sleep ${marker}`, own, pluginContext({ signal: controller.signal }));
    running.catch(() => {});
    await waitFor(() => processesWith(marker).length === 1);
    expect(workDirs()).toHaveLength(before.length + 1);
    controller.abort(new Error("the runner gave up"));
    await own.shutdown();
    expect(workDirs()).toEqual(before);
    await expect(running).rejects.toThrow("the runner gave up");
  });

  it("has nothing to do when nothing runs", async () => {
    await expect(shell().shutdown()).resolves.toBeUndefined();
  });
});

describe("ShellPlugin.formatReply", () => {
  const result = (overrides: Partial<ShellResult>): ShellResult => ({
    command: "x",
    exitCode: 0,
    signal: null,
    stdout: "",
    stderr: "",
    truncated: false,
    durationMs: 1,
    ...overrides,
  });

  it.each<[string, Partial<ShellResult>, string]>([
    ["stdout without its final newline", { stdout: "a\nb\n" }, "a\nb"],
    ["only one final newline removed", { stdout: "a\n\n" }, "a\n"],
    ["a CRLF ending removed", { stdout: "a\r\n" }, "a"],
    ["stderr left out on success", { stdout: "a\n", stderr: "warning\n" }, "a"],
    ["a note when there is no output", {}, "(no output)"],
    ["the exit code and stderr on failure", { exitCode: 2, stderr: "no such file\n" }, "exit code 2\nno such file"],
    ["the exit code alone", { exitCode: 1 }, "exit code 1"],
    ["the signal that ended the command", { exitCode: null, signal: "SIGTERM", stdout: "partial\n" }, "stopped by SIGTERM\npartial"],
  ])("shows %s", (_label, overrides, expected) => {
    expect(plugin.formatReply(result(overrides))).toBe(expected);
  });

  it("notes output that was cut", () => {
    const note = "[output cut at 65536 bytes; the command was stopped]";
    expect(plugin.formatReply(result({ exitCode: null, signal: "SIGKILL", stdout: "yyy", truncated: true }))).toBe(`yyy\n${note}`);
    expect(plugin.formatReply(result({ exitCode: 0, stdout: "yyy", truncated: true }))).toBe(`yyy\n${note}`);
    expect(plugin.formatReply(result({ exitCode: 3, stdout: "yyy", stderr: "e", truncated: true }))).toBe(`exit code 3\nyyy\ne\n${note}`);
  });
});
