import { createRemoteJWKSet, decodeJwt, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import type { AuthConfig } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import { unauthorized, type Authenticator, type RequestHeaders } from "./authenticator.js";
import { createCaller, type Caller } from "./caller.js";

/** Only asymmetric signatures: a shared-secret (HS*) or unsigned (`none`) token is refused before any key is looked at. */
const asymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

export interface JwtAuthenticatorOptions {
  /** How long after a key-set fetch an unknown `kid` may fetch it again (jose's cooldown); 30 s unless a test says otherwise. */
  readonly keyRefreshCooldownMs?: number;
  /** Time limit of one fetch of an OpenID configuration or a key set. */
  readonly fetchTimeoutMs?: number;
}

type JwtConfig = Extract<AuthConfig, { mode: "jwt" }>;

/**
 * Bearer tokens checked in the app, the way Microsoft Entra ID access tokens are checked (and any
 * OpenID issuer's): the signature against the issuer's published keys (AUTH_JWT_JWKS_URI, or the
 * `jwks_uri` of the issuer's OpenID configuration; jose caches them and fetches again for an
 * unknown `kid`), `iss` and `aud` against the configured lists, `exp`/`nbf` with a small clock skew.
 * The principal is `oid` (Entra's object id, the same in v1 and v2 tokens), else `sub`; roles
 * are the `roles` claim (Entra app roles).
 */
export class JwtAuthenticator implements Authenticator {
  readonly mode = "jwt" as const;
  /** One key set per issuer (or one for AUTH_JWT_JWKS_URI), made on first use; a failed discovery is forgotten. */
  private readonly keySets = new Map<string, Promise<JWTVerifyGetKey>>();
  private readonly cooldownMs: number;
  private readonly fetchTimeoutMs: number;

  constructor(
    private readonly config: JwtConfig,
    options: JwtAuthenticatorOptions = {},
  ) {
    this.cooldownMs = options.keyRefreshCooldownMs ?? 30_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5000;
  }

  async authenticate(headers: RequestHeaders): Promise<Caller> {
    const token = bearerToken(headers.get("authorization"));
    let unverified: JWTPayload;
    try {
      unverified = decodeJwt(token);
    } catch {
      throw unauthorized("the bearer token is not a JWT");
    }
    // The issuer picks the key set; it is verified again, with the signature, below.
    const issuer = unverified.iss;
    if (typeof issuer !== "string" || !this.config.issuers.includes(issuer)) {
      throw unauthorized("the token's issuer is not accepted (AUTH_JWT_ISSUER)");
    }
    const keys = await this.keySetFor(issuer);
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer: [...this.config.issuers],
        audience: [...this.config.audiences],
        algorithms: asymmetricAlgorithms,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw failureOf(error);
    }
    const principalId = stringClaim(payload.oid) ?? stringClaim(payload.sub);
    if (!principalId) throw unauthorized("the token names no subject (oid or sub)");
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === "string") : [];
    return createCaller("user", principalId, roles);
  }

  private keySetFor(issuer: string): Promise<JWTVerifyGetKey> {
    const id = this.config.jwksUri ?? issuer;
    let keys = this.keySets.get(id);
    if (!keys) {
      keys = (async () => {
        const uri = this.config.jwksUri ?? (await this.discoverKeySetUri(issuer));
        return createRemoteJWKSet(new URL(uri), { cooldownDuration: this.cooldownMs, timeoutDuration: this.fetchTimeoutMs });
      })();
      keys.catch(() => this.keySets.delete(id));
      this.keySets.set(id, keys);
    }
    return keys;
  }

  /** The issuer's OpenID configuration names its key set (`jwks_uri`). */
  private async discoverKeySetUri(issuer: string): Promise<string> {
    const url = `${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(this.fetchTimeoutMs), headers: { accept: "application/json" } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const document = (await response.json()) as { jwks_uri?: unknown };
      if (typeof document.jwks_uri !== "string" || !/^https?:\/\//.test(document.jwks_uri)) throw new Error("no jwks_uri in the document");
      return document.jwks_uri;
    } catch (error) {
      throw new AppError("auth_unavailable", "the token issuer's signing keys could not be fetched; try again shortly", { cause: error });
    }
  }
}

function bearerToken(header: string | null): string {
  if (!header) throw unauthorized("an Authorization: Bearer <token> header is required", false);
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(header);
  if (!match?.[1]) throw unauthorized("the Authorization header must be: Bearer <token>");
  return match[1];
}

function stringClaim(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** What went wrong with a token, said without echoing it; a key set that cannot be fetched is the server's problem. */
function failureOf(error: unknown): AppError {
  if (error instanceof errors.JWTExpired) return unauthorized("the token has expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return unauthorized("the token's audience is not accepted (AUTH_JWT_AUDIENCE)");
    if (error.claim === "iss") return unauthorized("the token's issuer is not accepted (AUTH_JWT_ISSUER)");
    if (error.claim === "nbf") return unauthorized("the token is not valid yet");
    return unauthorized(`the token's ${error.claim} claim is not valid`);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthorized("the token's signing algorithm is not accepted (asymmetric signatures only)");
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized("the token's signature is not valid");
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized("the token was signed with a key the issuer does not publish");
  // A key set that did not arrive: a timeout, a bad document, a status other than 200 (jose's plain
  // JOSEError), or a network error (not a JOSEError at all).
  if (
    error instanceof errors.JWKSTimeout ||
    error instanceof errors.JWKSInvalid ||
    !(error instanceof errors.JOSEError) ||
    error.constructor === errors.JOSEError
  ) {
    return new AppError("auth_unavailable", "the token issuer's signing keys could not be fetched; try again shortly", { cause: error });
  }
  return unauthorized("the token is not valid");
}
