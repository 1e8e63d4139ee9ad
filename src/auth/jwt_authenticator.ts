import { decodeJwt, errors, jwtVerify, type JWTPayload } from "jose";
import type { AuthConfig } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import type { Authenticator, RequestHeaders } from "./authenticator.js";
import { unauthorized } from "./unauthorized.js";
import type { Caller } from "./caller.js";
import { IssuerKeySet, type IssuerKeySetOptions } from "./issuer_key_set.js";
import { userCaller } from "./user_identity.js";

/** Only asymmetric signatures: a shared-secret (HS*) or unsigned (`none`) token is refused before any key is looked at. */
const asymmetricAlgorithms = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"];

/** Limits of the key fetches; the defaults are for production, tests shorten them. */
export interface JwtAuthenticatorOptions {
  /** How long after a successful key-set fetch an unknown `kid` is refused without fetching again; 30 s. */
  readonly keyRefreshCooldownMs?: number;
  /** Time limit of one fetch of an OpenID configuration or a key set; 5 s. */
  readonly fetchTimeoutMs?: number;
  /** The wait after a failed fetch before the next; 30 s, doubling with each further failure. */
  readonly fetchRetryDelayMs?: number;
  /** The longest wait between fetches while they fail; 5 min. */
  readonly fetchRetryMaxDelayMs?: number;
  /** Keys held longer are fetched again beside the requests that use them; 10 min. */
  readonly keyMaxAgeMs?: number;
  /** The clock of the cooldown, the back-off and the key age. */
  readonly now?: () => number;
}

type JwtConfig = Extract<AuthConfig, { mode: "jwt" }>;

/**
 * Bearer tokens checked in the app, the way Microsoft Entra ID access tokens are checked (and any
 * OpenID issuer's): the signature against the issuer's published keys (AUTH_JWT_JWKS_URI, or the
 * `jwks_uri` of the issuer's OpenID configuration; held and fetched as issuer_key_set.ts says),
 * `iss` and `aud` against the configured lists, `exp`/`nbf` with a small clock skew. The principal
 * is `oid` (Entra's object id) keyed by its tenant, else `sub` keyed by its issuer
 * (user_identity.ts); roles are the `roles` claim (Entra app roles).
 */
export class JwtAuthenticator implements Authenticator {
  readonly mode = "jwt" as const;
  /** One key set per configured issuer (or one for AUTH_JWT_JWKS_URI), made on first use. */
  private readonly keySets = new Map<string, IssuerKeySet>();
  private readonly keySetOptions: IssuerKeySetOptions;

  constructor(
    private readonly config: JwtConfig,
    options: JwtAuthenticatorOptions = {},
  ) {
    this.keySetOptions = {
      fetchTimeoutMs: options.fetchTimeoutMs ?? 5000,
      refreshCooldownMs: options.keyRefreshCooldownMs ?? 30_000,
      maxAgeMs: options.keyMaxAgeMs ?? 600_000,
      retryDelays: { firstDelayMs: options.fetchRetryDelayMs ?? 30_000, maxDelayMs: options.fetchRetryMaxDelayMs ?? 300_000 },
      now: options.now ?? Date.now,
    };
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
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySetFor(issuer).getKey, {
        issuer: [...this.config.issuers],
        audience: [...this.config.audiences],
        algorithms: asymmetricAlgorithms,
        clockTolerance: this.config.clockSkewSeconds,
        requiredClaims: ["exp"],
      }));
    } catch (error) {
      throw failureOf(error);
    }
    const roles = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === "string") : [];
    const caller = userCaller({ oid: stringClaim(payload.oid), tid: stringClaim(payload.tid), sub: stringClaim(payload.sub), iss: payload.iss }, roles);
    if (!caller) throw unauthorized("the token names no subject (oid or sub)");
    return caller;
  }

  private keySetFor(issuer: string): IssuerKeySet {
    const id = this.config.jwksUri ?? issuer;
    let keys = this.keySets.get(id);
    if (!keys) {
      keys = new IssuerKeySet(this.config.jwksUri ? { jwksUri: this.config.jwksUri } : { issuer }, this.keySetOptions);
      this.keySets.set(id, keys);
    }
    return keys;
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

/** What went wrong with a token, said without echoing it; keys that could not be fetched (an AppError) are the server's problem. */
function failureOf(error: unknown): unknown {
  if (error instanceof AppError) return error;
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
  // Anything else jose says is about the token; an error of another kind is the app's own, for the 500 handler.
  return error instanceof errors.JOSEError ? unauthorized("the token is not valid") : error;
}
