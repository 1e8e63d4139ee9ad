import { randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/audit_event.js";
import { AppError } from "../errors/app_error.js";
import { sessionRef } from "../memory/session_ref.js";
import type { PluginRunner, RunRequest, RunResult } from "./plugin_runner.js";

/**
 * A plugin run as the API and chat see it: the runner's guarantees, plus an audit record of
 * every run that belongs to a session, successful or not. A run is acknowledged only once its
 * record is written, so nothing a caller was told about is missing from the audit log.
 */
export class PluginExecution {
  constructor(
    private readonly runner: PluginRunner,
    private readonly audit: AuditLog,
  ) {}

  async execute(request: RunRequest): Promise<RunResult> {
    if (!request.sessionId) return this.runner.run(request);
    const session = sessionRef(request.caller, request.sessionId);
    const runId = request.runId ?? randomUUID();
    const started = performance.now();
    let outcome: RunResult;
    try {
      outcome = await this.runner.run({ ...request, runId });
    } catch (error) {
      const failure = error instanceof AppError ? error : new AppError("internal_error", "the run failed", { cause: error });
      await this.audit.append(session, {
        type: "plugin_run",
        plugin: request.plugin,
        runId,
        input: request.data,
        outcome: failure.code,
        errorMessage: failure.message,
        durationMs: Math.round(performance.now() - started),
      });
      throw failure;
    }
    await this.audit.append(session, {
      type: "plugin_run",
      plugin: outcome.plugin,
      runId,
      input: request.data,
      result: outcome.result,
      outcome: "success",
      durationMs: outcome.durationMs,
    });
    return outcome;
  }
}
