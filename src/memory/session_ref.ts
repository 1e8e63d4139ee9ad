import type { Caller } from "../auth/caller.js";

/**
 * A session as storage sees it: the caller's own session id under the caller's principal. The
 * memory, the audit log and the runs take this, never a bare session id, so two callers that both
 * use `sessionId: "s1"` have two separate sessions by construction.
 */
export interface SessionRef {
  readonly principalKey: string;
  readonly sessionId: string;
}

export function sessionRef(caller: Pick<Caller, "principalKey">, sessionId: string): SessionRef {
  return { principalKey: caller.principalKey, sessionId };
}

/** One string for a session in a store's key space: `<principalKey>:<sessionId>`. */
export function sessionStorageKey(session: SessionRef): string {
  return `${session.principalKey}:${session.sessionId}`;
}
