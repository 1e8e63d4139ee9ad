import { randomUUID } from "node:crypto";
import { z } from "zod";
import { isAwaitingApproval, type AwaitingApproval } from "../approvals/approval_request.js";
import type { Caller } from "../auth/caller.js";
import { channels } from "../auth/channel.js";
import { AppError } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import { queueableRunMessage, runIdSchema, runLocation, runMessageDigest } from "./run_message.js";
import { newRunRecord, runErrorSchema, runStates, type ResultStore, type RunQueue, type RunStore, type StoredRun } from "./run_record.js";

export interface AsyncRunRequest {
  readonly plugin: string;
  readonly data: unknown;
  readonly sessionId: string | undefined;
  /** The caller's own id for the run; one that exists already is refused (run_exists). */
  readonly runId: string | undefined;
}

/** `POST /api/plugins/execute` with `async: true`: 202. */
export const queuedRunSchema = z
  .object({
    status: z.literal("queued"),
    runId: runIdSchema,
    plugin: z.string(),
    location: z.string().meta({ description: "Where the run is read: `/api/runs/{runId}` (also the `Location` header)." }),
  })
  .meta({ id: "QueuedRun" });

export type QueuedRun = z.infer<typeof queuedRunSchema>;

/** `GET /api/runs/{runId}`. */
export const runViewSchema = z
  .object({
    runId: runIdSchema,
    plugin: z.string().nullable().meta({ description: "Null for a queue message that named no plugin." }),
    state: z.enum(runStates).meta({
      description:
        "`awaiting_approval` until an approver decides (then `approved`, and on as any run: `running`, `succeeded` or `failed`; or `denied`), `expired` when nobody decided in time.",
    }),
    createdAt: z.string(),
    updatedAt: z.string(),
    attempts: z.number().int(),
    sessionId: z.string().optional(),
    durationMs: z.number().optional(),
    result: z.unknown().optional().meta({ description: "Once succeeded: the result." }),
    error: runErrorSchema.optional().meta({ description: "Once failed: why." }),
    lastError: runErrorSchema.optional().meta({ description: "While queued or running again after a retryable failure: that failure." }),
    messageText: z.string().optional().meta({ description: "A rejected queue message's text (shortened), as it arrived." }),
    channel: z.enum(channels).optional().meta({ description: "The channel the run was asked on." }),
    approval: z
      .object({
        expiresAt: z.string(),
        decidedBy: z.string().optional().meta({ description: "The approver's principal id." }),
        decidedAt: z.string().optional(),
        reason: z.string().optional(),
      })
      .optional()
      .meta({ description: "A run that waits, or waited, for an approver: until when, and once decided, by whom, when and why." }),
  })
  .meta({ id: "RunView" });

export type RunView = z.infer<typeof runViewSchema>;

export interface RunServiceDependencies {
  readonly runner: PluginRunner;
  readonly store: RunStore;
  readonly results: ResultStore;
  readonly queue: RunQueue;
  readonly logger: Logger;
  /**
   * Whose runs a caller may read: its own; in the cloud modes an `admin` also reads the runs of
   * queue messages that no caller submitted (they belong to the queue principal).
   */
  readonly readableOwners: (caller: Caller) => readonly string[];
  /** A request whose time has run out reads as expired (src/approvals/approval_service.ts). */
  readonly approvals: { current(stored: StoredRun): Promise<StoredRun> };
  readonly now?: () => number;
}

/** Asynchronous runs as the API offers them: accepted and queued, then read back by id. */
export class RunService {
  private readonly now: () => number;

  constructor(private readonly deps: RunServiceDependencies) {
    this.now = deps.now ?? Date.now;
  }

  /**
   * Validates the request as a synchronous run would (unknown plugin, invalid input) before
   * anything is stored, records the run as queued, then puts it on the queue. The record comes
   * first so that a status request right after the answer finds it; if the message cannot be
   * queued, the record is removed again, so that the caller may retry with the same run id.
   * A run the policy holds for an approver is asked for exactly as a synchronous one is.
   */
  async submit(caller: Caller, request: AsyncRunRequest): Promise<QueuedRun | AwaitingApproval> {
    const { runner, store, queue } = this.deps;
    const { plugin, approval } = runner.admit({ caller, channel: "execute", plugin: request.plugin, data: request.data });
    const runId = request.runId ?? randomUUID();
    if (approval) {
      const requested = await runner.execute({ caller, channel: "execute", plugin: plugin.name, data: request.data, sessionId: request.sessionId, runId });
      if (isAwaitingApproval(requested)) return requested;
      throw new AppError("internal_error", "a run that waits for approval was run at once");
    }
    const messageText = queueableRunMessage({
      runId,
      owner: caller.principalKey,
      plugin: plugin.name,
      data: request.data,
      ...(request.sessionId ? { sessionId: request.sessionId } : {}),
    });
    const at = new Date(this.now()).toISOString();
    const created = await store.create(
      newRunRecord(
        {
          owner: caller.principalKey,
          runId,
          plugin: plugin.name,
          state: "queued",
          sessionId: request.sessionId,
          source: "http",
          principalId: caller.principalId,
          roles: caller.roles,
          messageDigest: runMessageDigest({ plugin: plugin.name, data: request.data, sessionId: request.sessionId }),
        },
        at,
      ),
    );
    if (created === "exists") {
      throw new AppError("run_exists", `a run with id "${runId}" exists already; read it at ${runLocation(runId)} or choose another id`, {
        details: { runId, location: runLocation(runId) },
      });
    }
    try {
      await queue.send(messageText);
    } catch (error) {
      await store.remove(caller.principalKey, runId, created.etag).catch((removeError: unknown) => {
        this.deps.logger.error("a run that could not be queued stays recorded as queued", { runId, error: String(removeError) });
      });
      throw error;
    }
    return { status: "queued", runId, plugin: plugin.name, location: runLocation(runId) };
  }

  /** Another principal's run answers exactly as an unknown one. */
  async status(caller: Caller, runId: string): Promise<RunView> {
    let stored: StoredRun | undefined;
    for (const owner of this.deps.readableOwners(caller)) {
      stored = await this.deps.store.get(owner, runId);
      if (stored) break;
    }
    if (!stored) throw new AppError("run_not_found", `no run has the id "${runId}"`, { details: { runId } });
    const record = (await this.deps.approvals.current(stored)).record;
    const view: Record<string, unknown> = {
      runId: record.runId,
      plugin: record.plugin ?? null,
      state: record.state,
      createdAt: record.createdAt,
      updatedAt: record.updatedAt,
      attempts: record.attempts,
      sessionId: record.sessionId,
      durationMs: record.durationMs,
      messageText: record.messageText,
      channel: record.channel,
      approval: record.approval && {
        expiresAt: record.approval.expiresAt,
        decidedBy: record.approval.decidedBy,
        decidedAt: record.approval.decidedAt,
        reason: record.approval.reason,
      },
    };
    if (record.state === "succeeded") {
      const document = await this.deps.results.read(record.owner, runId);
      // A result removed by a lifecycle rule leaves the record without one.
      if (document) view.result = document.result;
    }
    if (record.error) view[record.state === "failed" ? "error" : "lastError"] = record.error;
    withoutUndefined(view);
    if (view.approval) withoutUndefined(view.approval as Record<string, unknown>);
    return view as unknown as RunView;
  }
}

function withoutUndefined(fields: Record<string, unknown>): void {
  for (const key of Object.keys(fields)) if (fields[key] === undefined) delete fields[key];
}
