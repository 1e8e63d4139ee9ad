import { createHash } from "node:crypto";

/**
 * Who a request, a queue message or a CLI command runs as. Everything a caller stores (session
 * memory, audit entries, cached results, runs) is keyed by its `principalKey`, so that no route
 * or plugin can reach another caller's data.
 */
export interface Caller {
  /** A signed-in user's object id (else subject; see user_identity.ts), or a fixed local or system name. */
  readonly principalId: string;
  /** Entra app roles (the token's `roles` claim). */
  readonly roles: readonly string[];
  /**
   * Storage-safe and fixed-length: a hash of where the principal comes from and its id (for a
   * signed-in user, also the claim and its tenant or issuer). It fits a Redis key and a Table
   * PartitionKey whatever characters an issuer puts in `sub`, and a local or system principal can
   * never share a key with a signed-in user of the same name.
   */
  readonly principalKey: string;
}

/** Where a principal comes from: a verified user, the one local caller of AUTH_MODE=none and the CLI, or the app itself. */
export type PrincipalRealm = "user" | "local" | "system";

/** The principal of AUTH_MODE=none (every caller) and of the CLI, the machine's own operator. */
const localPrincipalId = "anonymous";

/** Runs from queue messages that no caller submitted belong to this principal in the cloud modes. */
export const queuePrincipalId = "queue";

/** Signed-in users are made by userCaller (user_identity.ts), which keys them by claim and issuer. */
export function createCaller(realm: PrincipalRealm, principalId: string, roles: readonly string[] = []): Caller {
  return { principalId, roles: [...new Set(roles)], principalKey: principalKeyOf(realm, principalId) };
}

export function principalKeyOf(realm: PrincipalRealm, principalId: string): string {
  return createHash("sha256").update(`${realm}\n${principalId}`).digest("hex").slice(0, 32);
}

/** The caller of AUTH_MODE=none: one principal for every request, no roles. */
export const localCaller: Caller = createCaller("local", localPrincipalId);

export const principalKeyPattern = /^[0-9a-f]{32}$/;
