import { z } from "zod";
import type { Channel } from "../auth/channel.js";

/**
 * The record of one run (asynchronous over HTTP, from a queue message, or one that waits for an
 * approver), in the runs table:
 *
 *   awaiting_approval ──approve──▶ approved ──claim──┐
 *     │  └──deny──▶ denied                            ▼
 *     └──no decision in time──▶ expired   queued ──claim──▶ running ──▶ succeeded   (result in the blob <runId>.json)
 *                                           ▲                  │
 *                                           └── retryable ─────┤
 *                                               failure        └──────▶ failed      (permanent failure, or the last delivery)
 *
 * `succeeded`, `failed`, `denied` and `expired` are final: a message for such a run is acknowledged
 * and not run. A run waiting for approval is not run by any message; an approved one only by the
 * message its approval queued (src/approvals/approval_service.ts).
 */
export type RunState = "awaiting_approval" | "approved" | "denied" | "expired" | "queued" | "running" | "succeeded" | "failed";

export const runStates = [
  "awaiting_approval",
  "approved",
  "denied",
  "expired",
  "queued",
  "running",
  "succeeded",
  "failed",
] as const satisfies readonly RunState[];

/** A run that waits, or waited, for an approver: the request's terms and, once decided, the decision. */
interface RunApproval {
  /** Past it, the request can no longer be decided: it is expired. */
  readonly expiresAt: string;
  /** The validated input the requester asked to run: what the approver sees, and what runs once approved. */
  readonly input: unknown;
  /** Once decided: the approver's principal id (undefined when the request expired). */
  readonly decidedBy: string | undefined;
  readonly decidedAt: string | undefined;
  /** The reason the approver gave, if any. */
  readonly reason: string | undefined;
}

/** Why a run failed (in its record, and as `GET /api/runs/{runId}` shows it). */
export const runErrorSchema = z.object({ code: z.string(), message: z.string() });

export type RunError = z.infer<typeof runErrorSchema>;

export interface RunRecord {
  /** The principal key of the run's caller: runs are stored, found and read per principal. */
  readonly owner: string;
  readonly runId: string;
  /** The plugin's own name once known; what the message named otherwise; undefined for a message that named none. */
  readonly plugin: string | undefined;
  readonly state: RunState;
  readonly sessionId: string | undefined;
  /** How the run arrived: `POST /api/plugins/execute` with `async`, or a message put on the queue directly. */
  readonly source: "http" | "queue";
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Deliveries that claimed the run (a redelivery after a retryable failure claims it again). */
  readonly attempts: number;
  /** While running: the claim holds until then; past it, the delivery that held it is taken to have died. */
  readonly leaseUntil: string | undefined;
  readonly durationMs: number | undefined;
  /** Blob name of the result in the results container, once succeeded. */
  readonly resultBlob: string | undefined;
  /** The failure when failed; the last retryable failure while queued or running again. */
  readonly error: RunError | undefined;
  /** A rejected message's text (shortened), so that nothing that arrived is lost. */
  readonly messageText: string | undefined;
  /** An HTTP run's caller, as it was when the run was accepted: the run executes as this caller. */
  readonly principalId: string | undefined;
  readonly roles: readonly string[] | undefined;
  /**
   * An HTTP run: SHA-256 of the message that was queued for it. Only a message with the same
   * plugin, data and session runs under the record's caller, so a message written to the queue
   * directly cannot borrow an accepted run's caller.
   */
  readonly messageDigest: string | undefined;
  /** The channel the run was asked on; it runs on it (undefined in records written before channels were kept). */
  readonly channel: Channel | undefined;
  /** Set when the run waits, or waited, for an approver. */
  readonly approval: RunApproval | undefined;
}

/** A run that has just arrived: nothing has happened to it yet but what `fields` says. */
export function newRunRecord(
  fields: Pick<RunRecord, "owner" | "runId" | "plugin" | "state" | "source" | "sessionId"> &
    Partial<Pick<RunRecord, "error" | "messageText" | "principalId" | "roles" | "messageDigest" | "channel" | "approval">>,
  at: string,
): RunRecord {
  return {
    createdAt: at,
    updatedAt: at,
    attempts: 0,
    leaseUntil: undefined,
    durationMs: undefined,
    resultBlob: undefined,
    error: undefined,
    messageText: undefined,
    principalId: undefined,
    roles: undefined,
    messageDigest: undefined,
    channel: undefined,
    approval: undefined,
    ...fields,
  };
}

/** A record as read or written, with the ETag that conditional updates (`If-Match`) need. */
export interface StoredRun {
  readonly record: RunRecord;
  readonly etag: string;
}

/** The runs table, keyed by owner and run id; every failure to reach it is an AppError storage_unavailable. */
export interface RunStore {
  get(owner: string, runId: string): Promise<StoredRun | undefined>;
  /** Creates the record only if its owner has none with its run id (the claim of a new run). */
  create(record: RunRecord): Promise<StoredRun | "exists">;
  /** Replaces the record only if it is still the version read (`If-Match: etag`). */
  replace(record: RunRecord, etag: string): Promise<StoredRun | "conflict">;
  /** Merges `changes` into the record only if it is still the version read: the write that decides a request. */
  update(stored: StoredRun, changes: Partial<RunRecord>): Promise<StoredRun | "conflict">;
  /** Deletes the record if it is still the version read. */
  remove(owner: string, runId: string, etag: string): Promise<void>;
}

/** What `plugin-results/<owner>/<runId>.json` holds. */
export interface RunResultDocument {
  readonly runId: string;
  readonly plugin: string;
  readonly result: unknown;
  readonly durationMs: number;
  readonly sessionId?: string;
  readonly completedAt: string;
}

/** The results container; every failure to reach it is an AppError storage_unavailable. */
export interface ResultStore {
  /** Writes (or overwrites) the result of a run; returns the blob name. */
  write(owner: string, document: RunResultDocument): Promise<string>;
  /** Undefined when there is no such blob (never written, or removed by a lifecycle rule). */
  read(owner: string, runId: string): Promise<RunResultDocument | undefined>;
}

/** The queue of runs; sends message texts that are already encoded. */
export interface RunQueue {
  send(messageText: string): Promise<void>;
}
