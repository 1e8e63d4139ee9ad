import * as z from "zod/mini";
import { websiteInstanceId } from "./azure_settings.js";
import { host, isListenAddress, isLoopback } from "./http_settings.js";
import { commaList, httpUrl, isHttpUrl, oneOf, settingDocs, text, wholeNumber } from "./setting.js";

/** Unset is `none`, allowed on a loopback HOST only; the rate limit and the plugins' shares depend on it too. */
export const authMode = z.optional(oneOf(["none", "jwt", "easyauth"])).register(settingDocs, {
  default: "`none` on a loopback `HOST`; must be set otherwise and in Azure",
  local: "default (`none`)",
  azure: "`jwt` (parameter `authMode`: `jwt` or `easyauth`)",
  description:
    "who calls: `none` (every caller is the one principal `anonymous`, for local use), `jwt` (bearer tokens checked by the app), `easyauth` (App Service Authentication in front)",
});

const authEnvironment = z
  .object({
    AUTH_MODE: authMode,
    AUTH_JWT_ISSUER: commaList(isHttpUrl, "each issuer must be an https URL such as https://login.microsoftonline.com/<tenant>/v2.0").register(settingDocs, {
      default: "unset (required with `jwt`)",
      azure: "`https://login.microsoftonline.com/<tenant>/v2.0,https://sts.windows.net/<tenant>/`",
      description: "accepted token issuers (`iss`), comma-separated",
    }),
    AUTH_JWT_AUDIENCE: commaList((v) => /^\S{1,400}$/.test(v), "each audience must be a client id or an App ID URI without spaces").register(settingDocs, {
      default: "unset (required with `jwt`)",
      azure: "`<client id>,api://<client id>`",
      description: "accepted audiences (`aud`), comma-separated: the API app's client id (v2 tokens) and App ID URI (v1 tokens)",
    }),
    AUTH_JWT_SCOPES: commaList(
      (v) => /^[\x21\x23-\x5B\x5D-\x7E]{1,400}$/.test(v),
      "each scope must be a scope name without spaces or quotes, such as api://<client id>/user_impersonation",
    ).register(settingDocs, {
      azure: "`api://<client id>/user_impersonation` (from the Bicep)",
      description: "comma-separated scopes an MCP client asks the issuer for: `scopes_supported` of the MCP endpoint's OAuth metadata",
    }),
    AUTH_JWT_JWKS_URI: z.optional(httpUrl()).register(settingDocs, {
      default: "unset: each issuer's `jwks_uri` from its `/.well-known/openid-configuration`",
      azure: "unset (discovered)",
      description: "signing keys of the issuer; cached, fetched again for an unknown `kid`",
    }),
    AUTH_JWT_CLOCK_SKEW_SECONDS: z._default(wholeNumber(0, 600), 60).register(settingDocs, { description: "tolerance for `exp` and `nbf`" }),
    WEBSITE_AUTH_ENABLED: z.optional(text()).register(settingDocs, {
      azure: "`True` when App Service Authentication is on (set by the platform)",
      description: "`easyauth` mode refuses to start without it: only the platform strips forged `x-ms-client-principal` headers",
    }),
    WEBSITE_INSTANCE_ID: websiteInstanceId,
    HOST: host,
  })
  .check(
    z.superRefine((env, ctx) => {
      const mode = env.AUTH_MODE;
      const problem = (setting: string, message: string) => ctx.addIssue({ code: "custom", path: [setting], message });
      if (mode === "none" && env.WEBSITE_INSTANCE_ID) problem("AUTH_MODE", "AUTH_MODE none is for local development only; in Azure set jwt or easyauth");
      if (mode === undefined && env.WEBSITE_INSTANCE_ID) {
        problem("AUTH_MODE", "AUTH_MODE must be set in Azure: jwt (the app checks bearer tokens) or easyauth (App Service Authentication)");
      }
      // zod runs this refinement on a HOST that failed its own rule too; that one is reported already.
      if (mode === undefined && isListenAddress(env.HOST) && !isLoopback(env.HOST)) {
        problem(
          "AUTH_MODE",
          `AUTH_MODE must be set when HOST (${env.HOST}) is not a loopback address: jwt or easyauth, or none to let every caller in as one principal`,
        );
      }
      if (mode === "jwt" && env.AUTH_JWT_ISSUER.length === 0) problem("AUTH_JWT_ISSUER", "AUTH_JWT_ISSUER must be set when AUTH_MODE is jwt");
      if (mode === "jwt" && env.AUTH_JWT_AUDIENCE.length === 0) problem("AUTH_JWT_AUDIENCE", "AUTH_JWT_AUDIENCE must be set when AUTH_MODE is jwt");
      if (mode === "easyauth" && env.WEBSITE_AUTH_ENABLED?.toLowerCase() !== "true") {
        problem(
          "WEBSITE_AUTH_ENABLED",
          "AUTH_MODE easyauth needs App Service Authentication in front of the app (WEBSITE_AUTH_ENABLED=True, set by the platform): only the platform strips forged x-ms-client-principal headers",
        );
      }
    }),
  );

/** Who calls: resolved once per request, before any handler work. */
export const authSettings = z.pipe(
  authEnvironment,
  z.transform((env) => {
    const mode = env.AUTH_MODE ?? "none";
    // none: every caller is the one principal "anonymous" (the local host on loopback); easyauth: the caller comes from x-ms-client-principal.
    if (mode !== "jwt") return { mode };
    return {
      mode,
      issuers: env.AUTH_JWT_ISSUER,
      audiences: env.AUTH_JWT_AUDIENCE,
      /** Unset: each issuer's own, from its OpenID configuration. */
      jwksUri: env.AUTH_JWT_JWKS_URI,
      clockSkewSeconds: env.AUTH_JWT_CLOCK_SKEW_SECONDS,
      /** The scopes clients request for a token of this API, advertised to MCP clients. */
      scopes: env.AUTH_JWT_SCOPES,
    };
  }),
);
