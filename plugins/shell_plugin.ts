import { z } from "zod";
import { AppError, BasePlugin, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";
import { assertAllowedExecutable, parseCommandLine } from "./shell/command_line.js";
import { assertArgumentsInside } from "./shell/path_confinement.js";
import { startProcess, type RunningProcess } from "./shell/run_process.js";
import type { ShellSettings } from "./shell/settings.js";
import { inheritedVariables, scrubbedEnvironment } from "./shell/scrubbed_environment.js";
import { createWorkDir, removeWorkDir } from "./shell/work_dir.js";

const shellInputSchema = z.strictObject({
  command: z
    .string()
    .trim()
    .min(1)
    .max(4000)
    .describe(
      'One command with its arguments, such as: echo "hello world". Quote with \'...\' or "..." or a backslash. ' +
        "No shell runs it: pipes, redirections, ;, &&, globs, $(...) and backticks are rejected, and $VARIABLES are not expanded. " +
        "Paths must stay inside the command's own temporary working directory: no absolute paths, ~ or .. leading out of it.",
    ),
});

export type ShellInput = z.infer<typeof shellInputSchema>;

const shellResultSchema = z.strictObject({
  command: z.string().describe("The command line as given."),
  exitCode: z.number().int().nullable().describe("Null when the command was ended by a signal (for example when its output went past the limit)."),
  signal: z.string().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean().describe("True when stdout or stderr went past the output limit: the output is cut there and the command was stopped."),
  durationMs: z.number().min(0),
});

export type ShellResult = z.infer<typeof shellResultSchema>;

/**
 * Programs that run other programs (or code): allowing one of them allows every command, and
 * setsid also takes what it runs out of reach of the process-group kill.
 */
const launchers = new Set([
  ...["env", "sh", "bash", "dash", "zsh", "busybox", "xargs", "find", "nice", "nohup", "setsid", "stdbuf", "timeout", "sudo", "su"],
  ...["python", "python3", "node", "perl", "ruby", "awk", "gawk"],
]);

/**
 * Runs one allowed command, without a shell, in a fresh temporary directory that its arguments
 * may not lead out of, with a scrubbed environment, a time limit and an output limit. Disabled
 * until SHELL_PLUGIN_ALLOWED_COMMANDS names the executables it may run. Results are never
 * cached: the same command may print something else each time.
 */
export class ShellPlugin extends BasePlugin<ShellInput, ShellResult> {
  readonly name = "shell";
  readonly title = "Shell command";
  readonly aliases = ["openinterpreter"] as const;
  readonly description: string;
  // A command may delete or overwrite what it reaches, and reach whatever its executable reaches.
  readonly annotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true };
  readonly inputSchema = shellInputSchema;
  readonly outputSchema = shellResultSchema;
  /** The runner's timeout for this plugin; the plugin stops the command itself at the same limit. */
  readonly timeoutMs: number;
  /**
   * Never offered to a model nor run from the queue (text a model or a producer writes is not an
   * operator's command); in the cloud modes only callers with the app role admin may run it.
   */
  readonly defaultPolicy = { channels: ["execute", "chat"], roles: ["admin"] } as const;

  private readonly settings: ShellSettings;
  private readonly running = new Set<RunningProcess>();
  /** Every execution until it has finished, its working directory removed included. */
  private readonly executions = new Set<Promise<ShellResult>>();
  private accepting = true;

  constructor(environment: PluginEnvironment) {
    super();
    this.settings = environment.settings.shell;
    this.timeoutMs = this.settings.timeoutMs;
    const allowed = this.settings.allowedCommands;
    this.description =
      (allowed.length === 0
        ? "Disabled on this server (no commands are allowed). "
        : `Runs one command on the server and returns its exit code, stdout and stderr. Allowed commands: ${allowed.join(", ")}. `) +
      "The command line is split into words like a shell would (quotes and backslashes), but no shell runs it: " +
      "pipes, redirections, ;, &&, globs, comments, $(...) and backticks are rejected, and $VARIABLES are passed literally. " +
      "It runs in an empty temporary directory that is deleted afterwards, and may only use paths inside it: " +
      "arguments with absolute paths (/...), ~ or .. that lead outside it are refused with path_not_allowed. " +
      `It is stopped after ${this.settings.timeoutMs} ms, ` +
      `and its output is cut at ${this.settings.maxOutputBytes} bytes per stream (the command is then stopped).`;
    const risky = allowed.filter((command) => launchers.has(command));
    if (risky.length > 0) {
      environment.logger.warn("the shell plugin allows commands that can run any other command", { commands: risky });
    }
  }

  override async initialize(): Promise<void> {
    this.accepting = true;
  }

  disabledReason(): string | undefined {
    return this.settings.allowedCommands.length === 0
      ? "the shell plugin is disabled: set SHELL_PLUGIN_ALLOWED_COMMANDS to the executables it may run"
      : undefined;
  }

  execute(data: ShellInput, context: PluginContext): Promise<ShellResult> {
    const execution = this.runCommand(data, context);
    this.executions.add(execution);
    const forget = () => this.executions.delete(execution);
    execution.then(forget, forget);
    return execution;
  }

  private async runCommand(data: ShellInput, context: PluginContext): Promise<ShellResult> {
    const allowed = this.settings.allowedCommands;
    if (allowed.length === 0) {
      throw new AppError("plugin_disabled", "the shell plugin is disabled: set SHELL_PLUGIN_ALLOWED_COMMANDS to the executables it may run");
    }
    const { file, args } = parseCommandLine(data.command);
    assertAllowedExecutable(file, allowed);
    if (!this.accepting) {
      throw new AppError("plugin_failed", "the shell plugin is shutting down");
    }
    context.signal.throwIfAborted();

    const workDir = await createWorkDir();
    let run: RunningProcess | undefined;
    try {
      // shutdown() may have started while the directory was made.
      if (!this.accepting) throw new AppError("plugin_failed", "the shell plugin is shutting down");
      // Checked against the real directory, so "resolves outside it" means just that; on refusal
      // nothing has run, and the finally below removes the directory.
      assertArgumentsInside(args, workDir);
      run = startProcess({
        file,
        args,
        cwd: workDir,
        env: scrubbedEnvironment(workDir, inheritedVariables()),
        timeoutMs: this.settings.timeoutMs,
        maxOutputBytes: this.settings.maxOutputBytes,
        signal: context.signal,
      });
      this.running.add(run);
      const outcome = await run.done;
      // Arguments may carry anything the user typed: only the executable is logged.
      context.logger.info("shell command finished", {
        command: file,
        exitCode: outcome.exitCode,
        signal: outcome.signal,
        truncated: outcome.truncated,
        durationMs: outcome.durationMs,
      });
      return { command: data.command, ...outcome };
    } finally {
      if (run) this.running.delete(run);
      if (!(await removeWorkDir(workDir))) {
        context.logger.warn("could not remove the shell plugin's working directory", { dir: workDir });
      }
    }
  }

  /**
   * Kills the process trees of the commands still running and waits until every execution has
   * finished, working directories removed (also those of runs the runner already gave up on).
   */
  override async shutdown(): Promise<void> {
    this.accepting = false;
    for (const run of this.running) {
      run.stop(new AppError("plugin_failed", "the command was stopped because the service is shutting down"));
    }
    await Promise.allSettled([...this.executions]);
  }

  inputFromText(text: string): ShellInput {
    return { command: text };
  }

  /**
   * Success: stdout as printed (without its final newline), or "(no output)". A non-zero exit:
   * "exit code N", then stdout and stderr. Output over the limit: what was kept, and a note.
   */
  formatReply(result: ShellResult): string {
    const stdout = withoutFinalNewline(result.stdout);
    const stderr = withoutFinalNewline(result.stderr);
    if (result.truncated) {
      // Stopped by the plugin because of its output (exit code null), or it exited while the rest was read.
      const status = result.exitCode === null || result.exitCode === 0 ? "" : `exit code ${result.exitCode}`;
      const note = `[output cut at ${this.settings.maxOutputBytes} bytes; the command was stopped]`;
      return [status, stdout, result.exitCode === 0 ? "" : stderr, note].filter((part) => part !== "").join("\n");
    }
    if (result.exitCode === 0) return stdout === "" ? "(no output)" : stdout;
    const status = result.exitCode === null ? `stopped by ${result.signal ?? "a signal"}` : `exit code ${result.exitCode}`;
    return [status, stdout, stderr].filter((part) => part !== "").join("\n");
  }
}

function withoutFinalNewline(text: string): string {
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}
