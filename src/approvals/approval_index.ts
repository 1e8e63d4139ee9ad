/** A request as the index of pending requests holds it: enough to find its record, and to filter before reading it. */
export interface PendingApproval {
  readonly runId: string;
  /** The requester's principal key: the record is `<owner>:<runId>` in the runs table. */
  readonly owner: string;
  readonly plugin: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
}

/** What names a request's place among the pending ones: its plugin, its expiry and its run id. */
export type PendingPlace = Pick<PendingApproval, "runId" | "plugin" | "expiresAt">;

/**
 * Where approvers find requests without scanning the runs table: each request's run id, kept for
 * good (a run id is one request's, whoever asked), and the requests still pending, by plugin and
 * by expiry, so that no requester can crowd another plugin's requests, or older ones, out of an
 * approver's list. The index is best effort: a request's record is what counts (its ETag write
 * decides it), so whoever reads the index reads each record again, and an entry the record no
 * longer backs is dropped.
 */
export interface ApprovalIndex {
  /** Takes the run id for this request and lists it as pending, both or neither; "taken" when another request has the run id. */
  add(entry: PendingApproval): Promise<"added" | "taken">;
  /** The requester of the request with this run id, pending or decided; undefined when no request has it. */
  ownerOf(runId: string): Promise<string | undefined>;
  /** The plugin's requests listed as pending, the soonest to expire first (decided and expired ones among them until they are dropped). */
  pending(plugin: string): Promise<PendingApproval[]>;
  /** No longer lists the request as pending; nothing when it is not listed. */
  unlist(place: PendingPlace): Promise<void>;
  /** Gives the run id back, for a request whose record could not be written. */
  release(place: PendingPlace): Promise<void>;
}
