import { z } from "zod";
import type { AuditEvent, AuditLog } from "../audit/audit_event.js";
import type { Caller } from "../auth/caller.js";
import { channels } from "../auth/channel.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { AppError, describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import { sessionRef } from "../memory/session_ref.js";
import type { PluginRegistry } from "../plugins/plugin_registry.js";
import { queueableRunMessage, runIdSchema, runLocation, runMessageDigest, type RunMessage } from "../runs/run_message.js";
import { newRunRecord, type RunQueue, type RunRecord, type RunStore, type StoredRun } from "../runs/run_record.js";
import { inSpan } from "../telemetry/tracing.js";
import type { ApprovalIndex, PendingApproval, PendingPlace } from "./approval_index.js";
import type { ApprovalRequest, ApprovalRequests, AwaitingApproval } from "./approval_request.js";

/** A request's input is kept in its record (a table property holds 32K characters) and becomes a queue message once approved. */
const maxApprovalInputChars = 30_000;
/** At most this many requests are listed at once, the oldest first. */
const maxListedApprovals = 100;

export type Decision = "approve" | "deny";

/** A pending request as `GET /api/approvals` lists it to an approver. */
export const approvalViewSchema = z.object({
  runId: runIdSchema,
  plugin: z.string(),
  input: z.unknown().meta({ description: "The input as the plugin validated it: what runs if approved." }),
  requester: z.string().meta({ description: "The requester's principal id (a token's `oid`, else `sub`)." }),
  channel: z.enum(channels).nullable().meta({ description: "Where the run was asked for; it runs there once approved." }),
  requestedAt: z.string(),
  expiresAt: z.string(),
});

export type ApprovalView = z.infer<typeof approvalViewSchema>;

/** `POST /api/approvals/{runId}`: the decision as it was recorded. */
export const decisionViewSchema = z
  .object({
    runId: runIdSchema,
    plugin: z.string(),
    state: z.enum(["approved", "denied"]).meta({ description: "`approved`: the run is queued and runs once, as its requester." }),
    decidedBy: z.string().meta({ description: "The approver's principal id." }),
    decidedAt: z.string(),
    reason: z.string().optional(),
  })
  .meta({ id: "Decision" });

export type DecisionView = z.infer<typeof decisionViewSchema>;

export interface ApprovalServiceDependencies {
  readonly store: RunStore;
  readonly index: ApprovalIndex;
  readonly queue: RunQueue;
  readonly audit: AuditLog;
  readonly policy: PluginPolicy;
  readonly registry: PluginRegistry;
  readonly logger: Logger;
  readonly now?: () => number;
}

/**
 * Runs that wait for an approver. A request is a run record in state `awaiting_approval` (the
 * requester's, like every run) and an entry in the approvals index (approval_index.ts); the
 * record keeps the validated input, the channel, the session, the requester and the expiry.
 *
 * Exactly one decision wins: a decision reads the record and writes it back with the ETag it read
 * (a Merge with `If-Match`), so of approvers deciding at once one write succeeds and the others
 * get 412, answered 409 approval_closed. That write is the commit point; the index is tidied after
 * it, best effort. An approved run is queued, and the queue worker claims it (approved → running,
 * another ETag write) before it runs it as its requester on its channel, once. A request nobody
 * decides in time is expired by whoever reads it next (also an ETag write, so it is recorded once).
 *
 * The requester's session timeline gets the decision (approver, reason) here; the request is
 * recorded by the runner into the turn that asked for it, the outcome by the run itself.
 */
export class ApprovalService implements ApprovalRequests {
  private readonly now: () => number;

  constructor(private readonly deps: ApprovalServiceDependencies) {
    this.now = deps.now ?? Date.now;
  }

  async request(request: ApprovalRequest): Promise<AwaitingApproval> {
    const { index } = this.deps;
    const inputChars = JSON.stringify(request.input)?.length ?? 0;
    if (inputChars > maxApprovalInputChars) {
      throw new AppError(
        "payload_too_large",
        `a run that waits for approval keeps its input, which may be at most ${maxApprovalInputChars} characters of JSON`,
        {
          details: { maxInputChars: maxApprovalInputChars, inputChars },
        },
      );
    }
    const { caller, runId, plugin, sessionId, channel } = request;
    // What its approval will queue must fit on the queue: refused now (413), not at every approval.
    queueableRunMessage(approvedRunMessage({ runId, owner: caller.principalKey, plugin, input: request.input, sessionId }));
    const now = this.now();
    const requestedAt = new Date(now).toISOString();
    const expiresAt = new Date(now + request.rule.ttlSeconds * 1000).toISOString();
    // The run id first: approvers decide by run id alone, so no two requests may share one.
    if ((await index.add({ runId, owner: caller.principalKey, plugin, requestedAt, expiresAt })) === "taken") throw runExists(runId);
    const record = newRunRecord(
      {
        owner: caller.principalKey,
        runId,
        plugin,
        state: "awaiting_approval",
        sessionId,
        source: channel === "queue" ? "queue" : "http",
        channel,
        principalId: caller.principalId,
        roles: caller.roles,
        // Only the message its approval queues may run it (see RunProcessor).
        messageDigest: runMessageDigest({ plugin, data: request.input, sessionId }),
        approval: { expiresAt, input: request.input, decidedBy: undefined, decidedAt: undefined, reason: undefined },
      },
      requestedAt,
    );
    try {
      await this.writeRequest(record);
    } catch (error) {
      await index
        .release({ runId, plugin, expiresAt })
        .catch((releaseError: unknown) =>
          this.deps.logger.warn("the run id of a request that was not recorded stays taken", { runId, error: describeThrown(releaseError) }),
        );
      throw error;
    }
    return { state: "awaiting_approval", runId, plugin, expiresAt, location: runLocation(runId) };
  }

  /** The pending requests this approver may decide, from any requester but the approver, oldest first. */
  async list(caller: Caller): Promise<ApprovalView[]> {
    this.assertApprover(caller);
    // Each plugin's requests are read on their own, soonest to expire first: no plugin's crowd another's out.
    const approvable = this.deps.registry.list().filter((plugin) => this.deps.policy.mayApprove(caller, plugin));
    const decidable = (await Promise.all(approvable.map((plugin) => this.deps.index.pending(plugin.name))))
      .flat()
      .filter((entry) => this.mayDecide(caller, entry))
      .sort((a, b) => a.requestedAt.localeCompare(b.requestedAt))
      .slice(0, maxListedApprovals);
    // Each entry is checked against its record: the index may still list a request decided or expired a moment ago.
    const views = await Promise.all(decidable.map((entry) => this.pendingView(entry)));
    return views.filter((view): view is ApprovalView => view !== undefined);
  }

  /**
   * One approver's decision. 403 for a caller who approves nothing or decides their own request
   * (but the local caller of AUTH_MODE=none), 404 for a request the caller may not decide or that
   * does not exist (the same answer: another's request is not revealed), 409 when it was decided
   * already or has expired.
   */
  async decide(caller: Caller, runId: string, decision: Decision, reason: string | undefined): Promise<DecisionView> {
    this.assertApprover(caller);
    const owner = await this.deps.index.ownerOf(runId);
    const stored = owner === undefined ? undefined : await this.deps.store.get(owner, runId);
    const plugin = stored?.record.plugin;
    if (!stored?.record.approval || plugin === undefined) throw requestNotFound(runId);
    // The requester knows the request exists; anyone else who may not decide it is told nothing of it.
    if (stored.record.owner === caller.principalKey && !this.deps.policy.mayDecideOwn) {
      throw new AppError("approval_forbidden", "a request is decided by another approver than its requester", { details: { runId } });
    }
    if (!this.mayDecide(caller, { owner: stored.record.owner, plugin })) throw requestNotFound(runId);
    const attributes = { "plugin.name": plugin, "plugin.run_id": runId, "approval.decision": decision };
    return inSpan(`approval ${plugin}`, { attributes }, async (span) => {
      try {
        const view = await this.write(caller, await this.current(stored), decision, reason);
        span.setAttribute("approval.outcome", view.state);
        return view;
      } catch (error) {
        span.setAttribute("approval.outcome", error instanceof AppError ? error.code : "internal_error");
        throw error;
      }
    });
  }

  /**
   * The record as it stands: a request whose time has run out is written `expired` (once, with the
   * ETag read; whoever writes it records the expiry in the requester's timeline) and returned so.
   */
  async current(stored: StoredRun): Promise<StoredRun> {
    const { record } = stored;
    if (record.state !== "awaiting_approval" || !record.approval || Date.parse(record.approval.expiresAt) > this.now()) return stored;
    const expired = await this.deps.store.update(stored, { state: "expired", updatedAt: new Date(this.now()).toISOString() });
    if (expired === "conflict") {
      // Decided or expired by another writer meanwhile: what it wrote stands.
      return (await this.deps.store.get(record.owner, record.runId)) ?? stored;
    }
    await this.unlist(pendingPlace(record));
    await this.recordInTimeline(record, { type: "approval_decided", plugin: record.plugin, runId: record.runId, outcome: "expired" });
    return expired;
  }

  private async write(caller: Caller, current: StoredRun, decision: Decision, reason: string | undefined): Promise<DecisionView> {
    const { record } = current;
    if (record.state !== "awaiting_approval" || !record.approval) {
      throw new AppError("approval_closed", `the request was ${record.state === "expired" ? "not decided in time: it has expired" : "decided already"}`, {
        details: { runId: record.runId, state: record.state },
      });
    }
    const decidedAt = new Date(this.now()).toISOString();
    const state = decision === "approve" ? "approved" : "denied";
    const written = await this.deps.store.update(current, {
      state,
      updatedAt: decidedAt,
      approval: { ...record.approval, decidedBy: caller.principalId, decidedAt, reason },
    });
    if (written === "conflict") {
      throw new AppError("approval_closed", "the request was decided by another approver at the same moment", { details: { runId: record.runId } });
    }
    // Before the run is queued, so that the timeline has the decision before the run's outcome.
    await this.recordInTimeline(record, {
      type: "approval_decided",
      plugin: record.plugin,
      runId: record.runId,
      outcome: state,
      approver: caller.principalId,
      reason,
    });
    if (state === "approved") await this.enqueue(caller, written, current);
    // Only once the decision is carried out: a request whose run could not be queued stays listed.
    await this.unlist(pendingPlace(record));
    return { runId: record.runId, plugin: record.plugin!, state, decidedBy: caller.principalId, decidedAt, ...(reason === undefined ? {} : { reason }) };
  }

  /**
   * The approved run goes on the queue as the message its record's digest names, with the
   * requester as owner. If it cannot be queued, the request waits again (for a decision that can
   * be carried out), the requester's timeline says the approval was not carried out, and the
   * approver is told the decision did not take.
   */
  private async enqueue(approver: Caller, approved: StoredRun, waiting: StoredRun): Promise<void> {
    const { record } = approved;
    const message = queueableRunMessage(
      approvedRunMessage({ runId: record.runId, owner: record.owner, plugin: record.plugin!, input: record.approval!.input, sessionId: record.sessionId }),
    );
    try {
      await this.deps.queue.send(message);
    } catch (error) {
      const reverted = await this.deps.store
        .replace({ ...waiting.record, updatedAt: new Date(this.now()).toISOString() }, approved.etag)
        .catch((revertError: unknown) => {
          this.deps.logger.error("an approved run that could not be queued stays approved without a message", {
            runId: record.runId,
            error: describeThrown(revertError),
          });
          return "conflict" as const;
        });
      if (reverted !== "conflict") {
        const outcome = error instanceof AppError ? error.code : "internal_error";
        await this.recordInTimeline(record, {
          type: "approval_decided",
          plugin: record.plugin,
          runId: record.runId,
          outcome,
          approver: approver.principalId,
          reason: "the approved run could not be queued: the request waits for a decision again",
        });
      }
      throw error;
    }
  }

  private async writeRequest(record: RunRecord): Promise<void> {
    const { store } = this.deps;
    if ((await store.create(record)) !== "exists") return;
    // A queue message's run: its delivery claimed the run (running) before the runner asked for approval.
    const claimed = record.channel === "queue" ? await store.get(record.owner, record.runId) : undefined;
    if (claimed && claimed.record.state === "running" && !claimed.record.approval) {
      const replaced = await store.replace({ ...record, createdAt: claimed.record.createdAt, attempts: claimed.record.attempts }, claimed.etag);
      if (replaced !== "conflict") return;
    }
    throw runExists(record.runId);
  }

  private async pendingView(entry: PendingApproval): Promise<ApprovalView | undefined> {
    const stored = await this.deps.store.get(entry.owner, entry.runId);
    const current = stored ? await this.current(stored) : undefined;
    const record = current?.record;
    if (!record?.approval || record.state !== "awaiting_approval") {
      await this.unlist(entry);
      return undefined;
    }
    return {
      runId: record.runId,
      plugin: entry.plugin,
      input: record.approval.input,
      requester: record.principalId ?? record.owner,
      channel: record.channel ?? null,
      requestedAt: record.createdAt,
      expiresAt: record.approval.expiresAt,
    };
  }

  private assertApprover(caller: Caller): void {
    if (!this.deps.policy.isApprover(caller)) {
      throw new AppError("approval_forbidden", "only approvers (a role that PLUGIN_POLICY names in an approval rule) decide requests");
    }
  }

  /** The plugin's approvers, but not the request's own requester (except in AUTH_MODE=none). */
  private mayDecide(caller: Caller, request: { owner: string; plugin: string }): boolean {
    const plugin = this.deps.registry.resolve(request.plugin);
    if (!plugin || !this.deps.policy.mayApprove(caller, plugin)) return false;
    return this.deps.policy.mayDecideOwn || request.owner !== caller.principalKey;
  }

  private async unlist(place: PendingPlace): Promise<void> {
    await this.deps.index.unlist(place).catch((error: unknown) => {
      // The list reads each record again and drops what is no longer pending.
      this.deps.logger.warn("a decided request stays in the approvals index for now", { runId: place.runId, error: describeThrown(error) });
    });
  }

  /** Into the requester's session, when the request had one; the decision stands if it cannot be written. */
  private async recordInTimeline(record: RunRecord, event: AuditEvent): Promise<void> {
    if (!record.sessionId) return;
    await this.deps.audit.append(sessionRef({ principalKey: record.owner }, record.sessionId), event).catch((error: unknown) => {
      this.deps.logger.warn("a decision on a request is missing from its requester's timeline", { runId: record.runId, error: describeThrown(error) });
    });
  }
}

/** The message an approval queues: the requester's run of the kept input, which the record's digest names. */
function approvedRunMessage(run: { runId: string; owner: string; plugin: string; input: unknown; sessionId: string | undefined }): RunMessage {
  return { runId: run.runId, owner: run.owner, plugin: run.plugin, data: run.input, ...(run.sessionId ? { sessionId: run.sessionId } : {}) };
}

/** Where a request's record says it is listed: only a record with an approval and a plugin is one. */
function pendingPlace(record: RunRecord): PendingPlace {
  return { runId: record.runId, plugin: record.plugin!, expiresAt: record.approval!.expiresAt };
}

function requestNotFound(runId: string): AppError {
  return new AppError("run_not_found", `no request to run a plugin has the id "${runId}"`, { details: { runId } });
}

function runExists(runId: string): AppError {
  return new AppError("run_exists", `a run with id "${runId}" exists already; choose another id`, { details: { runId } });
}
