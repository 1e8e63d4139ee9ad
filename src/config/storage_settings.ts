import * as z from "zod/mini";
import { httpUrl, settingDocs, text, textWhere } from "./setting.js";

/** An Azure table name: 3-63 letters and digits, starting with a letter. */
export const tableName = (fallback: string) =>
  z._default(z.string().check(z.regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be 3-63 letters and digits, starting with a letter")), fallback);

const endpointDocs = (kind: string) => ({
  default: "from the account name",
  local: "unset",
  azure: "unset (from the account name)",
  description: `explicit ${kind} endpoint (sovereign clouds, private endpoints)`,
});

const storageEnvironment = z
  .object({
    STORAGE_CONNECTION_STRING: z.optional(text()).register(settingDocs, {
      secret: true,
      local: "`UseDevelopmentStorage=true`, or unset (the local host starts Azurite)",
      azure: "never set",
      description: "storage for the audit log by connection string: Azurite (`UseDevelopmentStorage=true`)",
    }),
    STORAGE_ACCOUNT_NAME: z.optional(textWhere((v) => /^[a-z0-9]{3,24}$/.test(v), "must be 3-24 lowercase letters and digits")).register(settingDocs, {
      azure: "the storage account (`st<token>`)",
      description: "storage account for the audit log in Azure, reached with Managed Identity",
    }),
    STORAGE_TABLE_ENDPOINT: z.optional(httpUrl()).register(settingDocs, endpointDocs("table")),
    STORAGE_BLOB_ENDPOINT: z.optional(httpUrl()).register(settingDocs, endpointDocs("blob")),
    STORAGE_QUEUE_ENDPOINT: z.optional(httpUrl()).register(settingDocs, endpointDocs("queue")),
  })
  .check(
    z.superRefine((env, ctx) => {
      for (const name of ["STORAGE_BLOB_ENDPOINT", "STORAGE_QUEUE_ENDPOINT"] as const) {
        if (env.STORAGE_TABLE_ENDPOINT && !env.STORAGE_ACCOUNT_NAME && !env[name]) {
          ctx.addIssue({ code: "custom", path: [name], message: `${name} (or STORAGE_ACCOUNT_NAME) must be set when STORAGE_TABLE_ENDPOINT is` });
        }
      }
      if (env.STORAGE_CONNECTION_STRING && (env.STORAGE_ACCOUNT_NAME || env.STORAGE_TABLE_ENDPOINT)) {
        ctx.addIssue({
          code: "custom",
          path: ["STORAGE_CONNECTION_STRING"],
          message:
            "STORAGE_CONNECTION_STRING cannot be combined with STORAGE_ACCOUNT_NAME or STORAGE_TABLE_ENDPOINT: use the connection string for Azurite, the account for Azure",
        });
      }
    }),
  );

/**
 * Tables, blobs and queues: by connection string (Azurite), or by account with the managed identity
 * (Azure). Undefined when nothing is configured: the local host then starts Azurite in-process.
 */
export const storageSettings = z.pipe(
  storageEnvironment,
  z.transform((env) => {
    if (env.STORAGE_CONNECTION_STRING) return { kind: "connectionString" as const, connectionString: env.STORAGE_CONNECTION_STRING };
    if (!env.STORAGE_ACCOUNT_NAME && !env.STORAGE_TABLE_ENDPOINT) return undefined;
    // The refinement above guarantees an account name wherever an endpoint is missing.
    const account = env.STORAGE_ACCOUNT_NAME;
    return {
      kind: "identity" as const,
      tableEndpoint: env.STORAGE_TABLE_ENDPOINT ?? `https://${account}.table.core.windows.net`,
      blobEndpoint: env.STORAGE_BLOB_ENDPOINT ?? `https://${account}.blob.core.windows.net`,
      queueEndpoint: env.STORAGE_QUEUE_ENDPOINT ?? `https://${account}.queue.core.windows.net`,
    };
  }),
);

/** The audit log's table. */
export const auditSettings = z.pipe(
  z.object({
    AUDIT_TABLE_NAME: tableName("auditlog").register(settingDocs, {
      azure: "`auditlog`",
      description: "table of the audit log (created on first use, and again by a write that finds it missing)",
    }),
  }),
  z.transform((env) => ({ tableName: env.AUDIT_TABLE_NAME })),
);
