import { randomUUID } from "node:crypto";
import { isAwaitingApproval } from "../approvals/approval_request.js";
import type { Caller } from "../auth/caller.js";
import type { Channel } from "../auth/channel.js";
import { AppError } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { PluginRunner } from "../plugins/plugin_runner.js";
import { isRunId, parseRunMessage, runMessageDigest, type RejectedRunMessage, type ValidRunMessage } from "./run_message.js";
import { newRunRecord, type ResultStore, type RunError, type RunRecord, type RunState, type RunStore, type StoredRun } from "./run_record.js";
import { isRetryable } from "./retry_policy.js";
import { shorten } from "../azure/storage_call.js";

/** One delivery of a queue message, as the trigger metadata describes it. */
export interface Delivery {
  /** The queue message id: the same on every delivery of one message. */
  readonly messageId: string | undefined;
  /** 1 on the first delivery; the host moves the message to the poison queue after a failed delivery number maxDequeueCount. */
  readonly dequeueCount: number;
}

export type ProcessOutcome =
  | { readonly kind: "succeeded"; readonly runId: string }
  /** A permanent failure, recorded; the message is done with. */
  | { readonly kind: "failed"; readonly runId: string; readonly error: RunError }
  /** A redelivery, or a second message, of a run that already finished: acknowledged without running. */
  | { readonly kind: "already_finished"; readonly runId: string; readonly state: RunState }
  /** The message's run now waits for an approver (the policy holds it): the message is done with; the approval queues another. */
  | { readonly kind: "awaiting_approval"; readonly runId: string }
  /** A message for a run that waits for approval, was denied or expired, or the message that asked for it again: acknowledged without running. */
  | { readonly kind: "not_run"; readonly runId: string; readonly state: RunState };

/**
 * Thrown (so that the message comes back later) when another delivery holds the run's claim: it
 * is running the plugin right now, or died holding it and the claim has not run out yet.
 */
export class RunInProgressError extends Error {
  constructor(
    readonly runId: string,
    readonly leaseUntil: string | undefined,
  ) {
    super(`run ${runId} is being run by another delivery${leaseUntil ? ` (claimed until ${leaseUntil})` : ""}`);
    this.name = "RunInProgressError";
  }
}

export interface RunProcessorDependencies {
  readonly store: RunStore;
  readonly results: ResultStore;
  readonly runner: PluginRunner;
  readonly logger: Logger;
  /**
   * Whom a message that no caller submitted runs as (channel `queue`): the queue principal in the
   * cloud modes, the one local principal with AUTH_MODE=none. Its rejected messages are recorded
   * under it too.
   */
  readonly queueCaller: Caller;
  /** How long a delivery's claim on a run of this plugin holds: the plugin's timeout plus a margin for storage. */
  readonly leaseMs: (plugin: string) => number;
  readonly now?: () => number;
}

export interface RunProcessorLimits {
  /** host.json's extensions.queues.maxDequeueCount: the delivery with this number is the last one. */
  readonly maxDequeueCount: number;
}

const maxStoredMessageChars = 4000;
const maxLoggedMessageChars = 500;

/** Why a failed approved run stays failed: said in its error, where its requester reads it. */
const notStartedAgain = "an approved run is not started again: ask for it again to have it approved anew";

/**
 * Runs plugin-run queue messages through the same PluginRunner.execute as the API (validation,
 * timeout, bulkhead, the audit of runs in a session), idempotently by run id:
 *
 * - a run is claimed with a conditional write before it runs: a new run by creating its record
 *   (fails with 409 if another delivery created it first), a queued one or one whose claim ran
 *   out by replacing its record with the ETag that was read (fails with 412 if another delivery
 *   changed it first); so two deliveries of one run cannot both run it;
 * - a run that already succeeded or failed is not run again: the message is acknowledged;
 * - a run another delivery holds makes this delivery fail (RunInProgressError), to come back later;
 * - the result goes to the results container, then the record becomes `succeeded`;
 * - failures are handled as retry_policy.ts says: retryable ones throw (and are recorded `failed`
 *   on the last delivery, before the host moves the message to the poison queue), permanent ones
 *   are recorded `failed` and return; a malformed message is recorded `failed` with its text.
 *
 * Delivery is at least once: a run whose plugin finished but whose result could not be stored
 * (storage down at that moment) runs again on the next delivery. An approved run is the exception:
 * it starts at most once, so any failure (but its plugin's bulkhead turning it away) and a claim
 * that ran out end it `failed`, to be asked for, and approved, again.
 */
export class RunProcessor {
  private readonly now: () => number;

  constructor(
    private readonly deps: RunProcessorDependencies,
    private readonly limits: RunProcessorLimits,
  ) {
    this.now = deps.now ?? Date.now;
  }

  async process(entry: unknown, delivery: Delivery): Promise<ProcessOutcome> {
    const parsed = parseRunMessage(entry, delivery.messageId);
    if (!parsed.ok) {
      // Recorded where GET /api/runs can read it, then thrown: the host redelivers it until
      // maxDequeueCount and moves it to the poison queue, as the issue asks of malformed messages.
      const rejected = await this.reject(parsed.rejected, delivery);
      throw new MalformedRunMessageError(rejected.runId, rejected.error);
    }
    const message = parsed.message;
    const logger = this.deps.logger.child({ runId: message.runId, messageId: delivery.messageId, dequeueCount: delivery.dequeueCount });
    const owner = message.owner ?? this.deps.queueCaller.principalKey;
    const claim = await this.claim(message, owner);
    if (claim.kind === "not_accepted") {
      const rejected = await this.reject(
        {
          runId: message.runId,
          plugin: message.plugin,
          problem: message.owner
            ? "the message names an owner that accepted no such run, or differs from the accepted one (only POST /api/plugins/execute with async sets owner)"
            : "the run id belongs to a run accepted over HTTP, which only its own message may run",
          issues: [],
          text: JSON.stringify({ runId: message.runId, owner: message.owner, plugin: message.plugin }),
        },
        delivery,
      );
      throw new MalformedRunMessageError(rejected.runId, rejected.error);
    }
    if (claim.kind === "finished") {
      logger.info("run already finished, message acknowledged without running it", { state: claim.record.state });
      return { kind: "already_finished", runId: message.runId, state: claim.record.state };
    }
    if (claim.kind === "not_run") {
      logger.info("run waits for approval or was not approved, message acknowledged without running it", { state: claim.record.state });
      return { kind: "not_run", runId: message.runId, state: claim.record.state };
    }
    // An accepted run (async over HTTP, or approved) executes as the caller that asked for it, on that caller's channel.
    const record = claim.stored.record;
    const origin: { caller: Caller; channel: Channel; approved: boolean } = message.owner
      ? {
          caller: { principalKey: owner, principalId: record.principalId ?? owner, roles: record.roles ?? [] },
          channel: record.channel ?? "execute",
          // Only an approved request's own message gets here with a record that has an approval (claim).
          approved: record.approval !== undefined,
        }
      : { caller: this.deps.queueCaller, channel: "queue", approved: false };
    return this.run(message, origin, claim.stored, delivery, logger);
  }

  private async claim(
    message: ValidRunMessage,
    owner: string,
  ): Promise<
    { kind: "claimed"; stored: StoredRun } | { kind: "finished"; record: RunRecord } | { kind: "not_run"; record: RunRecord } | { kind: "not_accepted" }
  > {
    const { store } = this.deps;
    // Each round loses only to a writer that changed the record in between; three rounds settle any race.
    for (let round = 0; round < 3; round++) {
      const now = this.now();
      const at = new Date(now).toISOString();
      const leaseUntil = new Date(now + this.deps.leaseMs(message.plugin)).toISOString();
      const existing = await store.get(owner, message.runId);
      const state = existing?.record.state;
      // Waiting for an approver, or never to run: no message runs it (an approved one is claimed below, by its own message).
      if (state === "awaiting_approval" || state === "denied" || state === "expired") return { kind: "not_run", record: existing!.record };
      // The message that asked for an approval, delivered again after the request was decided.
      if (!message.owner && existing?.record.approval && existing.record.channel === "queue") return { kind: "not_run", record: existing.record };
      // A message with an owner may only run what that owner's request accepted (async over HTTP, or approved), exactly as
      // accepted; one without may not take over an accepted HTTP run (with AUTH_MODE=none both are the local principal's).
      if (message.owner && (!existing || !isAccepted(existing.record) || existing.record.messageDigest !== runMessageDigest(message))) {
        return { kind: "not_accepted" };
      }
      if (!message.owner && existing?.record.source === "http") return { kind: "not_accepted" };
      if (!existing) {
        const arrived = newRunRecord(
          { owner, runId: message.runId, plugin: message.plugin, state: "running", sessionId: message.sessionId, source: "queue", channel: "queue" },
          at,
        );
        const created = await store.create({ ...arrived, attempts: 1, leaseUntil });
        if (created !== "exists") return { kind: "claimed", stored: created };
        continue;
      }
      const record = existing.record;
      if (record.state === "succeeded" || record.state === "failed") return { kind: "finished", record };
      if (record.state === "running" && record.leaseUntil !== undefined && Date.parse(record.leaseUntil) > now) {
        throw new RunInProgressError(record.runId, record.leaseUntil);
      }
      if (record.state === "running" && record.approval !== undefined) {
        // An approved run whose claim ran out may have started: it is not started again without a new approval.
        const error: RunError = { code: "internal_error", message: `the approved run was interrupted (its claim ran out); ${notStartedAgain}` };
        const ended = await store.replace({ ...record, state: "failed", leaseUntil: undefined, updatedAt: at, error }, existing.etag);
        if (ended !== "conflict") return { kind: "finished", record: ended.record };
        continue;
      }
      // Queued, approved, or running under a claim that ran out (the delivery that held it is gone): claimed with the ETag read.
      const claimed = await store.replace(
        { ...record, plugin: message.plugin, sessionId: message.sessionId, state: "running", attempts: record.attempts + 1, leaseUntil, updatedAt: at },
        existing.etag,
      );
      if (claimed !== "conflict") return { kind: "claimed", stored: claimed };
    }
    throw new RunInProgressError(message.runId, undefined);
  }

  private async run(
    message: ValidRunMessage,
    origin: { caller: Caller; channel: Channel; approved: boolean },
    stored: StoredRun,
    delivery: Delivery,
    logger: Logger,
  ): Promise<ProcessOutcome> {
    const started = performance.now();
    try {
      const outcome = await this.deps.runner.execute({
        ...origin,
        plugin: message.plugin,
        data: message.data,
        sessionId: message.sessionId,
        runId: message.runId,
      });
      if (isAwaitingApproval(outcome)) {
        // The request replaced the claimed record; the approval queues the message that runs it.
        logger.info("run waits for approval", { plugin: outcome.plugin, expiresAt: outcome.expiresAt });
        return { kind: "awaiting_approval", runId: message.runId };
      }
      const completedAt = new Date(this.now()).toISOString();
      const resultBlob = await this.deps.results.write(stored.record.owner, {
        runId: message.runId,
        plugin: outcome.plugin,
        result: outcome.result,
        durationMs: outcome.durationMs,
        ...(message.sessionId ? { sessionId: message.sessionId } : {}),
        completedAt,
      });
      const written = await this.deps.store.replace(
        {
          ...stored.record,
          plugin: outcome.plugin,
          state: "succeeded",
          updatedAt: completedAt,
          leaseUntil: undefined,
          durationMs: outcome.durationMs,
          resultBlob,
          error: undefined,
        },
        stored.etag,
      );
      if (written === "conflict") logger.warn("run record changed while the run held its claim (the claim ran out); the result is stored");
      logger.info("run succeeded", { plugin: outcome.plugin, durationMs: outcome.durationMs });
      return { kind: "succeeded", runId: message.runId };
    } catch (error) {
      return this.failed(error, stored, delivery, Math.round(performance.now() - started), logger);
    }
  }

  private async failed(error: unknown, stored: StoredRun, delivery: Delivery, durationMs: number, logger: Logger): Promise<ProcessOutcome> {
    const failure = error instanceof AppError ? error : new AppError("internal_error", "the run failed", { cause: error });
    const approved = stored.record.approval !== undefined;
    // An approved run starts at most once: delivered again, it would repeat what it did without a new approval.
    // Only a run its plugin's bulkhead turned away never started, and waits for the next delivery.
    const retryable = approved ? failure.code === "plugin_busy" : isRetryable(error);
    const last = delivery.dequeueCount >= this.limits.maxDequeueCount;
    const at = new Date(this.now()).toISOString();
    const fields = { code: failure.code, dequeueCount: delivery.dequeueCount, maxDequeueCount: this.limits.maxDequeueCount };
    if (retryable && !last) {
      logger.warn("run failed, the message will be delivered again", { ...fields, error: failure.message });
      // Back to queued, so that the next delivery claims it at once; if even that cannot be written, the claim runs out instead.
      try {
        await this.deps.store.replace(
          { ...stored.record, state: "queued", leaseUntil: undefined, updatedAt: at, error: { code: failure.code, message: failure.message } },
          stored.etag,
        );
      } catch (recordError) {
        logger.warn("run record could not be set back to queued", { error: String(recordError) });
      }
      throw failure;
    }
    const runError: RunError = {
      code: failure.code,
      message: retryable
        ? `${failure.message} (gave up after ${delivery.dequeueCount} deliveries)`
        : approved && isRetryable(error)
          ? `${failure.message}; ${notStartedAgain}`
          : failure.message,
    };
    const written = await this.deps.store.replace(
      { ...stored.record, state: "failed", leaseUntil: undefined, updatedAt: at, durationMs, error: runError },
      stored.etag,
    );
    if (written === "conflict") logger.warn("run record changed while the run held its claim (the claim ran out)");
    if (retryable) {
      logger.error("run failed on its last delivery; the message goes to the poison queue", { ...fields, error: failure.message });
      throw failure;
    }
    logger.warn("run failed", { ...fields, error: failure.message });
    return { kind: "failed", runId: stored.record.runId, error: runError };
  }

  /**
   * A message that is not a run request is recorded as a failed run, with its text: under its own
   * run id when it has a usable one that is still free, else under its queue message id (the same
   * on every delivery, so a redelivery finds it recorded). It is also logged, shortened.
   */
  private async reject(rejected: RejectedRunMessage, delivery: Delivery): Promise<{ runId: string; error: RunError }> {
    const issues = rejected.issues.map((i) => `${i.path || "(message)"}: ${i.message}`).join("; ");
    const error: RunError = { code: "invalid_request", message: `queue message rejected: ${rejected.problem}${issues ? ` (${issues})` : ""}` };
    this.deps.logger.warn("queue message rejected", {
      messageId: delivery.messageId,
      runId: rejected.runId,
      problem: rejected.problem,
      issues: rejected.issues,
      message: shorten(rejected.text, maxLoggedMessageChars),
    });
    const candidates = [...new Set([rejected.runId, isRunId(delivery.messageId) ? delivery.messageId : undefined])].filter(
      (id): id is string => id !== undefined,
    );
    if (candidates.length === 0) candidates.push(randomUUID());
    const at = new Date(this.now()).toISOString();
    for (const runId of candidates) {
      const created = await this.deps.store.create(
        newRunRecord(
          {
            owner: this.deps.queueCaller.principalKey,
            runId,
            plugin: rejected.plugin,
            state: "failed",
            sessionId: undefined,
            source: "queue",
            error,
            messageText: shorten(rejected.text, maxStoredMessageChars),
          },
          at,
        ),
      );
      if (created !== "exists") return { runId, error };
    }
    // The run id belongs to another run and this message was recorded on an earlier delivery.
    return { runId: candidates.at(-1)!, error };
  }
}

/** A run whose caller's request was accepted to run later: asynchronously over HTTP, or approved by an approver. */
function isAccepted(record: RunRecord): boolean {
  return record.source === "http" || record.approval !== undefined;
}

/** A message that is not a run request: recorded as a failed run under `runId`, left for the poison queue. */
export class MalformedRunMessageError extends Error {
  constructor(
    readonly runId: string,
    readonly error: RunError,
  ) {
    super(`malformed plugin-run message, recorded as run ${runId}: ${error.message}`);
    this.name = "MalformedRunMessageError";
  }
}
