import { TableClient, TableServiceClient } from "@azure/data-tables";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import type { StorageConfig } from "../config/config.js";
import { expandConnectionString, usesPlainHttp } from "./connection_string.js";

// The SDK's own exponential retry; bounded so that a request fails well within the HTTP deadline.
const retryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };

/** Managed Identity in Azure (the user-assigned identity named by AZURE_CLIENT_ID), developer credentials locally. */
export function createAzureCredential(clientId: string | undefined): TokenCredential {
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

export interface StorageClients {
  table(tableName: string): TableClient;
  tableService(): TableServiceClient;
}

export function createStorageClients(storage: StorageConfig, credential: () => TokenCredential): StorageClients {
  if (storage.kind === "connectionString") {
    const connectionString = expandConnectionString(storage.connectionString);
    const options = { retryOptions, allowInsecureConnection: usesPlainHttp(connectionString) };
    return {
      table: (name) => TableClient.fromConnectionString(connectionString, name, options),
      tableService: () => TableServiceClient.fromConnectionString(connectionString, options),
    };
  }
  return {
    table: (name) => new TableClient(storage.tableEndpoint, name, credential(), { retryOptions }),
    tableService: () => new TableServiceClient(storage.tableEndpoint, credential(), { retryOptions }),
  };
}
