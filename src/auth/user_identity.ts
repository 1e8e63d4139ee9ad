import { principalKeyOf, type Caller } from "./caller.js";

/** What names a signed-in user, as a verified token or App Service Authentication states it; empty strings count as absent. */
export interface IdentityClaims {
  /** Entra's object id: one per user or application within its tenant, the same in v1 and v2 tokens. */
  readonly oid?: string | undefined;
  /** Entra's tenant id. */
  readonly tid?: string | undefined;
  /** The subject: unique only within its issuer (Entra's differs per application). */
  readonly sub?: string | undefined;
  readonly iss?: string | undefined;
  /** App Service Authentication's provider (`auth_typ`): a subject's namespace when no issuer is named. */
  readonly provider?: string | undefined;
  /** App Service Authentication's `x-ms-client-principal-id`, for a principal that carries neither claim. */
  readonly platformId?: string | undefined;
}

/**
 * The caller a signed-in user is. Its id is the object id, else the subject, else the platform's
 * id; its key names the claim and the namespace in which that claim is unique, so that no two
 * identities share one: an object id by its tenant (`tid`, so a user's v1 and v2 tokens, whose
 * issuers differ, are one principal), else by its issuer; a subject by its issuer. A `tid` counts
 * only when the issuer is that tenant's (the tenant id is a segment of its path, as in every Entra
 * issuer), so that one configured issuer cannot speak for another's users. Undefined when the
 * claims name no one.
 */
export function userCaller(claims: IdentityClaims, roles: readonly string[]): Caller | undefined {
  const oid = nonEmpty(claims.oid);
  const sub = nonEmpty(claims.sub);
  const platformId = nonEmpty(claims.platformId);
  const issuer = issuerScope(claims);
  const [claim, namespace, id] = oid
    ? ["oid", tenantScope(claims) ?? issuer, oid]
    : sub
      ? ["sub", issuer, sub]
      : platformId
        ? ["platform", issuer, platformId]
        : [];
  if (!id) return undefined;
  return { principalId: id, roles: [...new Set(roles)], principalKey: principalKeyOf("user", JSON.stringify([claim, namespace, id])) };
}

function tenantScope(claims: IdentityClaims): string | undefined {
  const tid = nonEmpty(claims.tid);
  const iss = nonEmpty(claims.iss);
  if (!tid || (iss && !issuerPathSegments(iss).includes(tid))) return undefined;
  return `tid:${tid}`;
}

function issuerScope(claims: IdentityClaims): string | null {
  const iss = nonEmpty(claims.iss);
  if (iss) return `iss:${iss}`;
  const provider = nonEmpty(claims.provider);
  return provider ? `provider:${provider}` : null;
}

function issuerPathSegments(issuer: string): string[] {
  try {
    return new URL(issuer).pathname.split("/");
  } catch {
    return [];
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}
