import { describe, expect, it } from "vitest";
import { userCaller } from "../../../src/auth/user_identity.js";
import { EasyAuthAuthenticator } from "../../../src/auth/easyauth_authenticator.js";
import { loadConfig } from "../../../src/config/config.js";
import { failureOf } from "../../support/failure_of.js";

const objectId = "http://schemas.microsoft.com/identity/claims/objectidentifier";
const tenantId = "http://schemas.microsoft.com/identity/claims/tenantid";
const nameIdentifier = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";
const encode = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64");

/** The header App Service Authentication adds for an Entra ID caller. */
function clientPrincipal(claims: { typ: string; val: string }[], roleTyp = "roles") {
  return encode({ auth_typ: "aad", name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name", role_typ: roleTyp, claims });
}

describe("EasyAuthAuthenticator", () => {
  const auth = new EasyAuthAuthenticator();

  it("reads the object id and the roles from a well-formed x-ms-client-principal", async () => {
    const headers = new Headers({
      "x-ms-client-principal": clientPrincipal([
        { typ: objectId, val: "11111111-2222-3333-4444-555555555555" },
        { typ: tenantId, val: "tenant-1" },
        { typ: "iss", val: "https://sts.windows.net/tenant-1/" },
        { typ: "roles", val: "admin" },
        { typ: "roles", val: "reader" },
        { typ: "name", val: "Alice" },
      ]),
      "x-ms-client-principal-id": "11111111-2222-3333-4444-555555555555",
    });
    expect(await auth.authenticate(headers)).toEqual({
      principalId: "11111111-2222-3333-4444-555555555555",
      roles: ["admin", "reader"],
      principalKey: userCaller({ oid: "11111111-2222-3333-4444-555555555555", tid: "tenant-1" }, [])!.principalKey,
    });
  });

  it("keys the principal as AUTH_MODE=jwt does: object id by tenant, subject by issuer, never one for the other", async () => {
    const keyOf = async (claims: { typ: string; val: string }[], headers: Record<string, string> = {}) =>
      (await auth.authenticate(new Headers({ "x-ms-client-principal": clientPrincipal(claims), ...headers }))).principalKey;
    const oid = "11111111-2222-3333-4444-555555555555";
    const alice = await keyOf([
      { typ: objectId, val: oid },
      { typ: "tid", val: "tenant-1" },
    ]);
    expect(alice).toBe(userCaller({ oid, tid: "tenant-1", iss: "https://login.microsoftonline.com/tenant-1/v2.0" }, [])!.principalKey);
    expect(
      await keyOf([
        { typ: objectId, val: oid },
        { typ: tenantId, val: "tenant-2" },
      ]),
    ).not.toBe(alice);
    expect(
      await keyOf([
        { typ: nameIdentifier, val: oid },
        { typ: "tid", val: "tenant-1" },
      ]),
    ).not.toBe(alice);
    expect(await keyOf([{ typ: "roles", val: "reader" }], { "x-ms-client-principal-id": oid })).not.toBe(alice);
    const subject = (iss: string) =>
      keyOf([
        { typ: nameIdentifier, val: "12345" },
        { typ: "iss", val: iss },
      ]);
    expect(await subject("https://accounts.google.com")).not.toBe(await subject("https://other.example"));
  });

  it("takes roles under the principal's own role_typ, and falls back to x-ms-client-principal-id for the id", async () => {
    const headers = new Headers({
      "x-ms-client-principal": clientPrincipal(
        [{ typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role", val: "admin" }],
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
      ),
      "x-ms-client-principal-id": "client-principal-id",
    });
    expect(await auth.authenticate(headers)).toMatchObject({ principalId: "client-principal-id", roles: ["admin"] });
  });

  it.each([
    ["no header", {}, /sign in/],
    ["not base64 JSON", { "x-ms-client-principal": "%%%not-base64%%%" }, /not readable/],
    ["JSON of the wrong shape", { "x-ms-client-principal": encode({ claims: "admin" }) }, /not readable/],
    ["base64 of plain text", { "x-ms-client-principal": encode("hello") }, /not readable/],
    ["no object id, principal id or subject", { "x-ms-client-principal": clientPrincipal([{ typ: "roles", val: "admin" }]) }, /no object id/],
  ])("refuses %s with 401 unauthorized", async (_name, headers, message) => {
    const error = await failureOf(auth.authenticate(new Headers(headers as Record<string, string>)));
    expect(error.code).toBe("unauthorized");
    expect(error.message).toMatch(message);
    expect(error.headers?.["www-authenticate"]).toMatch(/^Bearer/);
  });
});

describe("AUTH_MODE=easyauth", () => {
  it("refuses to start unless App Service Authentication is on (WEBSITE_AUTH_ENABLED=True)", () => {
    expect(() => loadConfig({ AUTH_MODE: "easyauth" })).toThrow(/WEBSITE_AUTH_ENABLED/);
    expect(() => loadConfig({ AUTH_MODE: "easyauth", WEBSITE_AUTH_ENABLED: "False" })).toThrow(/WEBSITE_AUTH_ENABLED/);
    expect(loadConfig({ AUTH_MODE: "easyauth", WEBSITE_AUTH_ENABLED: "True" }).auth).toEqual({ mode: "easyauth" });
  });
});
