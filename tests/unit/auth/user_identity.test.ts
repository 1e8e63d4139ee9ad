import { describe, expect, it } from "vitest";
import { localCaller, principalKeyPattern } from "../../../src/auth/caller.js";
import { userCaller, type IdentityClaims } from "../../../src/auth/user_identity.js";

const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const oid = "11111111-2222-3333-4444-555555555555";
const v1 = `https://sts.windows.net/${tid}/`;
const v2 = `https://login.microsoftonline.com/${tid}/v2.0`;

const keyOf = (claims: IdentityClaims) => userCaller(claims, [])!.principalKey;

describe("userCaller: one principal key per identity", () => {
  it("keys an object id by its tenant: a user's v1 and v2 tokens, and App Service Authentication, share one key", () => {
    const key = keyOf({ oid, tid, iss: v2, sub: "v2-pairwise-sub" });
    expect(keyOf({ oid, tid, iss: v1, sub: "v1-pairwise-sub" })).toBe(key);
    expect(keyOf({ oid, tid })).toBe(key);
    expect(key).toMatch(principalKeyPattern);
    expect(userCaller({ oid, tid, iss: v2 }, ["admin", "admin"])).toEqual({ principalId: oid, roles: ["admin"], principalKey: key });
  });

  it("never shares a key between an object id and a subject of the same value", () => {
    expect(keyOf({ sub: oid, tid, iss: v2 })).not.toBe(keyOf({ oid, tid, iss: v2 }));
    expect(userCaller({ sub: oid, tid, iss: v2 }, [])!.principalId).toBe(oid);
  });

  it("keys a subject by its issuer", () => {
    expect(keyOf({ sub: "auth0|42", iss: "https://a.example/" })).not.toBe(keyOf({ sub: "auth0|42", iss: "https://b.example/" }));
    expect(keyOf({ sub: "auth0|42", iss: "https://a.example/" })).toBe(keyOf({ sub: "auth0|42", iss: "https://a.example/", tid: "ignored" }));
  });

  it("keys an object id by the issuer when the token names no tenant, or a tenant its issuer is not of", () => {
    const byTenant = keyOf({ oid, tid, iss: v2 });
    expect(keyOf({ oid, iss: v2 })).not.toBe(byTenant);
    // Another configured issuer cannot claim an Entra tenant's users by writing their tid and oid.
    expect(keyOf({ oid, tid, iss: "https://other-issuer.example/" })).not.toBe(byTenant);
    expect(keyOf({ oid, tid, iss: "https://other-issuer.example/" })).toBe(keyOf({ oid, iss: "https://other-issuer.example/" }));
    // A tenant id and an issuer of the same text are different namespaces.
    expect(keyOf({ oid, iss: tid })).not.toBe(keyOf({ oid, tid }));
  });

  it("keys an App Service Authentication subject by its provider when no issuer is named, and the platform's id apart from both", () => {
    expect(keyOf({ sub: "12345", provider: "github" })).not.toBe(keyOf({ sub: "12345", provider: "twitter" }));
    expect(keyOf({ platformId: "12345", provider: "github" })).not.toBe(keyOf({ sub: "12345", provider: "github" }));
    expect(keyOf({ platformId: oid })).not.toBe(keyOf({ oid }));
  });

  it("keeps users apart from the local principal of the same name", () => {
    expect(keyOf({ sub: localCaller.principalId })).not.toBe(localCaller.principalKey);
  });

  it("names no principal without an object id, a subject or a platform id", () => {
    expect(userCaller({ tid, iss: v2 }, [])).toBeUndefined();
    expect(userCaller({ oid: "", sub: "" }, [])).toBeUndefined();
  });
});
