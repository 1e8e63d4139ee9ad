import { createLocalJWKSet, errors, type CryptoKey, type FlattenedJWSInput, type JSONWebKeySet, type JWSHeaderParameters } from "jose";
import { AppError } from "../errors/app_error.js";
import { FetchBackoff, type RetryDelays } from "./fetch_backoff.js";

/** Where an issuer's keys are: a key set URL, or an issuer whose OpenID configuration names one (`jwks_uri`). */
export type KeySetSource = { readonly jwksUri: string } | { readonly issuer: string };

export interface IssuerKeySetOptions {
  /** Time limit of one fetch (of the OpenID configuration or of the key set). */
  readonly fetchTimeoutMs: number;
  /** After a successful fetch, an unknown `kid` is refused from the keys held for this long, without a fetch. */
  readonly refreshCooldownMs: number;
  /** Keys held longer than this are fetched again, beside the requests that go on using them. */
  readonly maxAgeMs: number;
  readonly retryDelays: RetryDelays;
  readonly now: () => number;
}

/** Far above any real key set or OpenID configuration (Entra's are a few kB). */
const maxDocumentBytes = 256 * 1024;

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * One issuer's signing keys, held by the app around jose's local key set. Unlike jose's remote
 * key set, the keys held stay in use whatever their age until a fetch replaces them (a failed
 * refresh never fails a token signed with a known key), and a failed fetch is not tried again
 * before its back-off ends: until then every request that needs a fetch (no keys yet, or an
 * unknown `kid` after the cooldown) gets 503 `auth_unavailable` with `Retry-After` at once.
 * Concurrent requests share one fetch; the OpenID configuration is read until it has once named
 * the key set.
 */
export class IssuerKeySet {
  private keys: LocalKeySet | undefined;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private jwksUri: string | undefined;
  private pending: Promise<void> | undefined;
  private readonly backoff: FetchBackoff;

  constructor(
    private readonly source: KeySetSource,
    private readonly options: IssuerKeySetOptions,
  ) {
    this.jwksUri = "jwksUri" in source ? source.jwksUri : undefined;
    this.backoff = new FetchBackoff(options.retryDelays, options.now);
  }

  /** jose's key resolver for jwtVerify. */
  readonly getKey = async (header: JWSHeaderParameters, token?: FlattenedJWSInput): Promise<CryptoKey> => {
    if (!this.keys) await this.refresh();
    else if (this.ageMs() > this.options.maxAgeMs && this.backoff.remainingMs() === 0) this.refresh().catch(() => undefined);
    try {
      return await this.keys!(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || this.ageMs() < this.options.refreshCooldownMs) throw error;
      await this.refresh();
      return this.keys!(header, token);
    }
  };

  private ageMs(): number {
    return this.options.now() - this.fetchedAt;
  }

  /** Fetches the keys, joining a fetch under way; refuses at once while backing off. */
  private refresh(): Promise<void> {
    if (this.pending) return this.pending;
    const waitMs = this.backoff.remainingMs();
    if (waitMs > 0) return Promise.reject(unavailable(waitMs));
    const fetched = this.fetchKeys().then(
      (keys) => {
        this.keys = keys;
        this.fetchedAt = this.options.now();
        this.backoff.succeeded();
      },
      (cause: unknown) => {
        throw unavailable(this.backoff.failed(), cause);
      },
    );
    this.pending = fetched.finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchKeys(): Promise<LocalKeySet> {
    this.jwksUri ??= await this.discoverKeySetUri();
    // jose's remote key set does not follow redirects for keys either.
    return createLocalJWKSet((await fetchJson(this.jwksUri, this.options.fetchTimeoutMs, "manual")) as JSONWebKeySet);
  }

  /** The issuer's OpenID configuration names its key set (`jwks_uri`). */
  private async discoverKeySetUri(): Promise<string> {
    const issuer = "issuer" in this.source ? this.source.issuer : "";
    const document = await fetchJson(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`, this.options.fetchTimeoutMs, "follow");
    const jwksUri = (document as { jwks_uri?: unknown } | null)?.jwks_uri;
    if (typeof jwksUri !== "string" || !/^https?:\/\//.test(jwksUri)) throw new Error("no jwks_uri in the OpenID configuration");
    return jwksUri;
  }
}

/** A JSON document of at most maxDocumentBytes, answered 200 within the time limit (which covers the body too). */
async function fetchJson(url: string, timeoutMs: number, redirect: "manual" | "follow"): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect, headers: { accept: "application/json" } });
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status} from ${url}`);
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
    bytes += chunk.value.byteLength;
    if (bytes > maxDocumentBytes) {
      await reader.cancel();
      throw new Error(`more than ${maxDocumentBytes} bytes from ${url}`);
    }
    chunks.push(chunk.value);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

function unavailable(waitMs: number, cause?: unknown): AppError {
  const retryAfterSeconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new AppError("auth_unavailable", `the token issuer's signing keys could not be fetched; try again in ${retryAfterSeconds} s`, {
    cause,
    details: { retryAfterSeconds },
    headers: { "retry-after": String(retryAfterSeconds) },
  });
}
