import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JwtAuthenticator } from "../../../src/auth/jwt_authenticator.js";
import { userCaller } from "../../../src/auth/user_identity.js";
import { AppError } from "../../../src/errors/app_error.js";
import { failureOf } from "../../support/failure_of.js";
import { symmetricToken, TestIssuer, unsignedToken } from "../../support/test_issuer.js";

const audience = "api://codex-test";
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await TestIssuer.start();
});
afterAll(async () => {
  await issuer.stop();
});

function authenticator(overrides: { jwksUri?: string; issuers?: string[]; audiences?: string[] } = {}, cooldownMs = 30_000) {
  return new JwtAuthenticator(
    {
      mode: "jwt",
      issuers: overrides.issuers ?? [issuer.issuer],
      audiences: overrides.audiences ?? ["00000000-0000-0000-0000-000000000001", audience],
      jwksUri: overrides.jwksUri,
      clockSkewSeconds: 60,
      scopes: [],
    },
    { keyRefreshCooldownMs: cooldownMs },
  );
}

const bearer = (token: string) => new Headers({ authorization: `Bearer ${token}` });

async function refusal(auth: JwtAuthenticator, headers: Headers): Promise<AppError> {
  const error = await failureOf(auth.authenticate(headers));
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("JwtAuthenticator", () => {
  it("accepts a token signed by the issuer's published key: the principal is oid, roles from the roles claim", async () => {
    const caller = await authenticator().authenticate(bearer(await issuer.token("alice", audience, { claims: { roles: ["admin", 7] } })));
    expect(caller).toEqual({ principalId: "alice", roles: ["admin"], principalKey: userCaller({ oid: "alice", tid: "tenant" }, [])!.principalKey });
  });

  it("keys the principal by its claim and issuer: a sub never shares a key with an oid, a user's v1 and v2 tokens share one", async () => {
    const auth = authenticator({ issuers: [issuer.v1Issuer, issuer.issuer] });
    const alice = await auth.authenticate(bearer(await issuer.token("alice", audience)));
    const subAlice = await auth.authenticate(bearer(await issuer.token("x", audience, { claims: { oid: undefined, sub: "alice" } })));
    const v1Alice = await auth.authenticate(bearer(await issuer.token("alice", audience, { issuer: issuer.v1Issuer, claims: { sub: "v1-pairwise" } })));
    const otherTenant = await auth.authenticate(bearer(await issuer.token("alice", audience, { claims: { tid: "another-tenant" } })));
    expect(subAlice.principalId).toBe("alice");
    expect(subAlice.principalKey).not.toBe(alice.principalKey);
    expect(v1Alice.principalKey).toBe(alice.principalKey);
    expect(otherTenant.principalKey).not.toBe(alice.principalKey);
  });

  it("uses sub when the token has no oid", async () => {
    const token = await issuer.token("x", audience, { claims: { oid: undefined, sub: "auth0|42" } });
    expect((await authenticator().authenticate(bearer(token))).principalId).toBe("auth0|42");
  });

  it("finds the keys through the issuer's OpenID configuration, once, and also at AUTH_JWT_JWKS_URI", async () => {
    const auth = authenticator();
    const before = issuer.discoveryFetches;
    for (let i = 0; i < 3; i++) await auth.authenticate(bearer(await issuer.token("alice", audience)));
    expect(issuer.discoveryFetches - before).toBe(1);
    const direct = authenticator({ jwksUri: issuer.jwksUri });
    const discoveries = issuer.discoveryFetches;
    expect((await direct.authenticate(bearer(await issuer.token("bob", audience)))).principalId).toBe("bob");
    expect(issuer.discoveryFetches).toBe(discoveries);
  });

  it("fetches the keys again for an unknown kid (key rotation), and caches them otherwise", async () => {
    const auth = authenticator({}, 0);
    await auth.authenticate(bearer(await issuer.token("alice", audience)));
    const fetches = issuer.keySetFetches;
    await auth.authenticate(bearer(await issuer.token("alice", audience)));
    expect(issuer.keySetFetches).toBe(fetches);
    await issuer.rotate();
    expect((await auth.authenticate(bearer(await issuer.token("carol", audience)))).principalId).toBe("carol");
    expect(issuer.keySetFetches).toBe(fetches + 1);
  });

  it("accepts either configured audience and either configured issuer", async () => {
    const auth = authenticator({ issuers: ["https://sts.windows.net/tenant/", issuer.issuer] });
    expect((await auth.authenticate(bearer(await issuer.token("a", "00000000-0000-0000-0000-000000000001")))).principalId).toBe("a");
    expect((await auth.authenticate(bearer(await issuer.token("a", audience)))).principalId).toBe("a");
  });

  it.each([
    ["no Authorization header", async () => new Headers(), /Authorization: Bearer/, "Bearer"],
    ["a Basic credential", async () => new Headers({ authorization: "Basic YTpi" }), /Bearer <token>/, 'Bearer error="invalid_token"'],
    ["a token that is not a JWT", async () => bearer("not-a-jwt"), /not a JWT/, 'Bearer error="invalid_token"'],
    ["an expired token", async () => bearer(await issuer.token("a", audience, { expiresIn: -3600 })), /expired/, 'Bearer error="invalid_token"'],
    ["a wrong audience", async () => bearer(await issuer.token("a", "api://someone-else")), /audience/, 'Bearer error="invalid_token"'],
    [
      "a wrong issuer",
      async () => bearer(await issuer.token("a", audience, { issuer: "https://evil.example/v2.0" })),
      /issuer/,
      'Bearer error="invalid_token"',
    ],
    ["a bad signature", async () => bearer(`${(await issuer.token("a", audience)).slice(0, -6)}AAAAAA`), /signature/, 'Bearer error="invalid_token"'],
    [
      "a key the issuer does not publish",
      async () => bearer(await issuer.token("a", audience, { forgeWithKid: "kid-unknown" })),
      /key the issuer does not publish/,
      'Bearer error="invalid_token"',
    ],
    [
      "alg none",
      async () => bearer(unsignedToken({ iss: issuer.issuer, aud: audience, oid: "a", exp: Math.floor(Date.now() / 1000) + 600 })),
      /./,
      'Bearer error="invalid_token"',
    ],
    [
      "HS256 with a guessed secret",
      async () => bearer(await symmetricToken({ iss: issuer.issuer, aud: audience, oid: "a", exp: Math.floor(Date.now() / 1000) + 600 }, "secret")),
      /algorithm/,
      'Bearer error="invalid_token"',
    ],
  ])("refuses %s with 401 unauthorized and a Bearer challenge", async (_name, headers, message, challenge) => {
    const error = await refusal(authenticator({}, 0), await headers());
    expect(error.code).toBe("unauthorized");
    expect(error.message).toMatch(message);
    expect(error.headers).toEqual({ "www-authenticate": challenge });
  });

  it("never echoes the token in the error", async () => {
    const token = await issuer.token("a", "api://someone-else");
    const error = await refusal(authenticator(), bearer(token));
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(token.split(".")[1]!);
  });

  it("answers 503 auth_unavailable, not 401, when the issuer's keys cannot be fetched", async () => {
    const auth = authenticator({ jwksUri: `${issuer.url}/missing/keys` });
    const error = await refusal(auth, bearer(await issuer.token("a", audience)));
    expect(error.code).toBe("auth_unavailable");
    expect(error.headers).toEqual({ "retry-after": "30" });
  });
});
