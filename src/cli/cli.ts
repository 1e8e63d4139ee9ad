import { isAwaitingApproval } from "../approvals/approval_request.js";
import { replyText } from "../chat/run_command.js";
import { localCaller } from "../auth/caller.js";
import { AppError } from "../errors/app_error.js";
import { assertSessionId } from "../memory/session_id.js";
import type { Services } from "../services.js";

export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

export const usage = `usage:
  npm run plugin -- list [--json]
  npm run plugin -- run <plugin> "<input>" [--session <id>] [--json]

<input> is a JSON object, or text the plugin reads itself (calculator: an expression; echo: any text).`;

/** The plugin CLI: the same registry and runner as the HTTP API. Returns the process exit code. */
export async function runCli(args: readonly string[], services: Services, output: CliOutput): Promise<number> {
  const json = args.includes("--json");
  const positional: string[] = [];
  let sessionId: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--json") continue;
    if (arg === "--session") {
      sessionId = args[++i];
      if (sessionId === undefined) {
        output.err(`--session needs a value\n${usage}`);
        return 2;
      }
      continue;
    }
    positional.push(arg);
  }
  const [command, plugin, ...rest] = positional;
  try {
    if (command === "list" && plugin === undefined) {
      const plugins = services.registry.describe();
      if (json) output.out(JSON.stringify({ plugins }, null, 2));
      else for (const p of plugins) output.out(`${p.name}${p.aliases.length ? ` (${p.aliases.join(", ")})` : ""}  ${p.description}`);
      return 0;
    }
    if (command === "run" && plugin !== undefined) {
      const resolved = services.runner.resolve(plugin, localCaller, "operator");
      const data = rest.join(" ").trim();
      // The machine's own operator: the local principal's sessions, outside the caller policy.
      const run = await services.runner.execute({
        caller: localCaller,
        channel: "operator",
        plugin: resolved.name,
        data,
        sessionId: sessionId === undefined ? undefined : assertSessionId(sessionId),
      });
      // The operator's runs are outside the policy: none waits for an approver.
      if (isAwaitingApproval(run)) throw new AppError("internal_error", "the operator's run was held for approval");
      output.out(json ? JSON.stringify({ status: "success", ...run }, null, 2) : replyText(resolved, run.result));
      return 0;
    }
    output.err(usage);
    return 2;
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    if (json) output.err(JSON.stringify({ status: "error", error: { code: error.code, message: error.message, details: error.details } }, null, 2));
    else output.err(`error ${error.code}: ${error.message}${error.details ? `\n${JSON.stringify(error.details)}` : ""}`);
    return 1;
  }
}
