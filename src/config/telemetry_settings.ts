import * as z from "zod/mini";
import { azureClientId } from "./azure_settings.js";
import { settingDocs, textWhere } from "./setting.js";

/** `Authorization=AAD;ClientId=<guid>` (either order, case-insensitive keys), as Application Insights documents it; undefined when malformed. */
function parseAuthenticationString(text: string): { clientId: string | undefined } | undefined {
  const pairs = new Map<string, string>();
  for (const part of text.split(";")) {
    if (part.trim() === "") continue;
    const at = part.indexOf("=");
    if (at <= 0) return undefined;
    pairs.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  if (pairs.get("authorization")?.toUpperCase() !== "AAD") return undefined;
  const clientId = pairs.get("clientid");
  if (clientId !== undefined && !/^[0-9a-f-]{36}$/i.test(clientId)) return undefined;
  if ([...pairs.keys()].some((key) => key !== "authorization" && key !== "clientid")) return undefined;
  return { clientId };
}

/** OpenTelemetry to Application Insights; undefined when APPLICATIONINSIGHTS_CONNECTION_STRING is not set (nothing is started). */
export const telemetrySettings = z.pipe(
  z.object({
    // Set by infra/ (and by the Functions platform when Application Insights is linked): turns telemetry on, in either host.
    APPLICATIONINSIGHTS_CONNECTION_STRING: z
      .optional(
        textWhere(
          (v) => /(^|;)\s*InstrumentationKey=[^;]+/i.test(v),
          "must be an Application Insights connection string (InstrumentationKey=...;IngestionEndpoint=...)",
        ),
      )
      .register(settingDocs, {
        secret: true,
        default: "unset: no telemetry",
        local: "unset, or a component's connection string to trace the local host",
        azure: "the Application Insights component's connection string",
        description: "turns OpenTelemetry on (see [Telemetry](telemetry.md)); never logged or echoed",
      }),
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: z
      .optional(
        textWhere((v) => parseAuthenticationString(v) !== undefined, "must be Authorization=AAD, optionally with ClientId=<client id of the managed identity>"),
      )
      .register(settingDocs, {
        default: "unset: the instrumentation key alone",
        local: "unset",
        azure: "`ClientId=<identity client id>;Authorization=AAD`",
        description:
          "`Authorization=AAD`: the exporter signs in with `ManagedIdentityCredential` (the `ClientId`, else `AZURE_CLIENT_ID`); needed where local authentication is disabled, as in infra/",
      }),
    AZURE_CLIENT_ID: azureClientId,
  }),
  z.transform((env) => {
    if (!env.APPLICATIONINSIGHTS_CONNECTION_STRING) return undefined;
    const aad = env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ? parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING) : undefined;
    return {
      connectionString: env.APPLICATIONINSIGHTS_CONNECTION_STRING,
      /**
       * How the exporter authenticates: `managedIdentity` when APPLICATIONINSIGHTS_AUTHENTICATION_STRING says Authorization=AAD
       * (Application Insights with local authentication disabled, as infra/ deploys it), with the identity's client id from that
       * string or else AZURE_CLIENT_ID; `instrumentationKey` otherwise.
       */
      authentication: aad ? { kind: "managedIdentity" as const, clientId: aad.clientId ?? env.AZURE_CLIENT_ID } : { kind: "instrumentationKey" as const },
    };
  }),
);
