import * as z from "zod/mini";
import { settingDocs, text, textWhere } from "./setting.js";

/** Set by App Service on every instance: the app runs in Azure. */
export const websiteInstanceId = z.optional(text()).register(settingDocs, {
  default: "unset",
  local: "unset",
  azure: "set by the platform",
  description: "marks a process running in Azure, where `AUTH_MODE` must be `jwt` or `easyauth`",
});

export const azureClientId = z
  .optional(textWhere((v) => /^[0-9a-f-]{36}$/i.test(v), "must be the client id (a GUID) of the user-assigned managed identity"))
  .register(settingDocs, {
    default: "unset",
    local: "unset (`DefaultAzureCredential` uses `az login`)",
    azure: "the user-assigned identity's client id",
    description: "client id of the user-assigned managed identity (`DefaultAzureCredential` uses it)",
  });

/** The identity every Azure client authenticates as. */
export const azureSettings = z.pipe(
  z.object({ AZURE_CLIENT_ID: azureClientId }),
  z.transform((env) => ({ clientId: env.AZURE_CLIENT_ID })),
);
