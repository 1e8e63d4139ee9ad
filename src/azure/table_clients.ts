import { TableClient, TableServiceClient } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import type { StorageConfig } from "../config/config.js";
import { expandConnectionString, usesPlainHttp } from "./connection_string.js";
import { retryOptions } from "./storage_options.js";

export interface TableClients {
  table(tableName: string): TableClient;
  tableService(): TableServiceClient;
}

/** Table Storage clients of the configured account (@azure/data-tables; a chunk of its own in the bundle). */
export function createTableClients(storage: StorageConfig, credential: () => TokenCredential): TableClients {
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
