import { z } from "zod";
import type { Authenticator, RequestHeaders } from "./authenticator.js";
import { unauthorized } from "./unauthorized.js";
import type { Caller } from "./caller.js";
import { userCaller } from "./user_identity.js";

const objectIdClaims = ["http://schemas.microsoft.com/identity/claims/objectidentifier", "oid"];
const tenantIdClaims = ["http://schemas.microsoft.com/identity/claims/tenantid", "tid"];
const subjectClaims = ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier", "sub"];
const issuerClaims = ["iss"];
const roleClaims = ["roles", "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"];

/** `x-ms-client-principal`: base64 of this JSON, claims under their mapped names. */
const clientPrincipalSchema = z.object({
  auth_typ: z.string().optional(),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(1000),
});

const maxHeaderChars = 64 * 1024;

/**
 * App Service Authentication in front of the app: the platform validates the caller's token or
 * session, strips any x-ms-client-principal* header a client sent, and adds its own. The app
 * refuses to start in this mode without WEBSITE_AUTH_ENABLED=True (config.ts), since elsewhere
 * anyone could send the header. The principal is the object id claim (keyed by the tenant id
 * claim), else the subject (keyed by the issuer claim, else the provider), else the
 * x-ms-client-principal-id header, as in AUTH_MODE=jwt (user_identity.ts); roles are the claims
 * of `role_typ`.
 */
export class EasyAuthAuthenticator implements Authenticator {
  readonly mode = "easyauth" as const;

  async authenticate(headers: RequestHeaders): Promise<Caller> {
    const header = headers.get("x-ms-client-principal");
    if (!header) throw unauthorized("sign in first: App Service Authentication sent no client principal", false);
    if (header.length > maxHeaderChars) throw unauthorized("the client principal is not readable");
    let principal: z.infer<typeof clientPrincipalSchema>;
    try {
      const parsed = clientPrincipalSchema.safeParse(JSON.parse(Buffer.from(header, "base64").toString("utf8")));
      if (!parsed.success) throw new Error("unexpected shape");
      principal = parsed.data;
    } catch {
      throw unauthorized("the client principal is not readable");
    }
    const claim = (types: readonly string[]) => principal.claims.find((c) => types.includes(c.typ) && c.val !== "")?.val;
    const roleTypes = principal.role_typ ? [principal.role_typ, ...roleClaims] : roleClaims;
    const roles = principal.claims.filter((c) => roleTypes.includes(c.typ)).map((c) => c.val);
    const caller = userCaller(
      {
        oid: claim(objectIdClaims),
        tid: claim(tenantIdClaims),
        sub: claim(subjectClaims),
        iss: claim(issuerClaims),
        provider: principal.auth_typ,
        platformId: nonEmpty(headers.get("x-ms-client-principal-id")),
      },
      roles,
    );
    if (!caller) throw unauthorized("the client principal names no object id or subject");
    return caller;
  }
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value.trim() === "" ? undefined : value.trim();
}
