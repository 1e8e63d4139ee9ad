import type { Server } from "node:http";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";
import { startLoopbackServer, stopLoopbackServer } from "./loopback_server.js";

interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export interface TokenOptions {
  readonly claims?: JWTPayload;
  /** Seconds from now; negative for a token that has expired. */
  readonly expiresIn?: number;
  readonly audience?: string;
  readonly issuer?: string;
  /** Sign with a key the issuer does not publish (a forged signature under a published kid). */
  readonly forgeWithKid?: string;
  readonly kid?: string;
}

/**
 * An OpenID issuer on loopback, shaped like Microsoft Entra ID's: an OpenID configuration at
 * `<issuer>/.well-known/openid-configuration` (for the v2 issuer and the v1 one) whose `jwks_uri`
 * lists RS256 public keys by `kid`, and access tokens signed with them (`iss`, `aud`, `exp`, `nbf`,
 * `iat`, `oid`, `sub`, `tid`, `roles`). Keys can be rotated, both documents can be made to answer
 * 500, and fetches (failed ones too) are counted, so that key caching and back-off can be seen.
 */
export class TestIssuer {
  private keys: SigningKey[] = [];
  keySetFetches = 0;
  discoveryFetches = 0;
  /** While true, the key set (or the OpenID configurations) answer 500. */
  readonly failing = { keySet: false, discovery: false };
  /** Spaces after the key set's JSON: a larger response with the same keys. */
  keySetPadding = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  /** `issuer` is the URL tokens carry in `iss`: `<server>/<tenant>/v2.0`. */
  get issuer(): string {
    return `${this.url}/tenant/v2.0`;
  }

  /** The v1 issuer of the same tenant (Entra's `https://sts.windows.net/<tenant>/`): same keys, same `tid`. */
  get v1Issuer(): string {
    return `${this.url}/tenant/`;
  }

  get jwksUri(): string {
    return `${this.url}/tenant/discovery/v2.0/keys`;
  }

  static async start(): Promise<TestIssuer> {
    let issuer: TestIssuer | undefined;
    const { server, url } = await startLoopbackServer(async (req, res) => {
      const path = new URL(req.url ?? "/", "http://x").pathname;
      const openIdConfigurations: Record<string, string> = {
        "/tenant/v2.0/.well-known/openid-configuration": issuer!.issuer,
        "/tenant/.well-known/openid-configuration": issuer!.v1Issuer,
      };
      const discovered = openIdConfigurations[path];
      if (discovered) {
        issuer!.discoveryFetches++;
        if (issuer!.failing.discovery) return void res.writeHead(500).end();
        // As Entra's: where clients sign a user in and get tokens (an MCP client reads these), and the keys.
        const endpoints = { authorization_endpoint: `${issuer!.url}/tenant/oauth2/v2.0/authorize`, token_endpoint: `${issuer!.url}/tenant/oauth2/v2.0/token` };
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            issuer: discovered,
            ...endpoints,
            jwks_uri: issuer!.jwksUri,
            response_types_supported: ["code"],
            subject_types_supported: ["pairwise"],
            id_token_signing_alg_values_supported: ["RS256"],
          }),
        );
        return;
      }
      if (path === "/tenant/discovery/v2.0/keys") {
        issuer!.keySetFetches++;
        if (issuer!.failing.keySet) return void res.writeHead(500).end();
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ keys: issuer!.keys.map((k) => k.publicJwk) }) + " ".repeat(issuer!.keySetPadding));
        return;
      }
      res.writeHead(404).end();
    });
    issuer = new TestIssuer(server, url);
    await issuer.rotate();
    return issuer;
  }

  /** The `kid` of the key tokens are signed with now. */
  get currentKid(): string {
    return this.keys.at(-1)!.kid;
  }

  /** Publishes a new signing key, used from now on; the old ones stay published unless `dropOld`. */
  async rotate(options: { dropOld?: boolean } = {}): Promise<string> {
    const key = await newKey(`kid-${this.keys.length + 1}-${Math.random().toString(36).slice(2, 8)}`);
    this.keys = options.dropOld ? [key] : [...this.keys, key];
    return key.kid;
  }

  /** An access token for `principal` (its `oid`), as Entra issues them. */
  async token(principal: string, audience: string, options: TokenOptions = {}): Promise<string> {
    const current = this.keys.at(-1)!;
    const key = options.forgeWithKid ? { ...(await newKey(options.forgeWithKid)) } : options.kid ? this.keys.find((k) => k.kid === options.kid)! : current;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ oid: principal, sub: `sub-${principal}`, tid: "tenant", ...options.claims })
      .setProtectedHeader({ alg: "RS256", typ: "JWT", kid: options.forgeWithKid ?? key.kid })
      .setIssuer(options.issuer ?? this.issuer)
      .setAudience(options.audience ?? audience)
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + (options.expiresIn ?? 600))
      .sign(key.privateKey);
  }

  async stop(): Promise<void> {
    await stopLoopbackServer(this.server, new Set());
  }
}

async function newKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, use: "sig", alg: "RS256" };
  return { kid, privateKey, publicJwk };
}

/** A token with `alg: none`: header and payload, no signature. */
export function unsignedToken(payload: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

/** A token signed with a shared secret (HS256), which an issuer of asymmetric keys never sends. */
export async function symmetricToken(payload: JWTPayload, secret: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(new TextEncoder().encode(secret));
}
