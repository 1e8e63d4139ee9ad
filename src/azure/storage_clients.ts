import { TableClient, TableServiceClient } from "@azure/data-tables";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import type { StorageConfig } from "../config/config.js";
import { expandConnectionString, usesPlainHttp } from "./connection_string.js";

// The SDK's own exponential retry; bounded so that a request fails well within the HTTP deadline.
const retryOptions = { maxRetries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 2000 };
// The blob and queue SDKs have their own retry options (tries, not retries, and a per-try timeout).
const storageRetryOptions = { maxTries: 4, retryDelayInMs: 200, maxRetryDelayInMs: 2000, tryTimeoutInMs: 30_000 };

/** Managed Identity in Azure (the user-assigned identity named by AZURE_CLIENT_ID), developer credentials locally. */
export function createAzureCredential(clientId: string | undefined): TokenCredential {
  return new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {});
}

export interface StorageClients {
  table(tableName: string): TableClient;
  tableService(): TableServiceClient;
  queue(queueName: string): QueueClient;
  blobContainer(containerName: string): ContainerClient;
}

export function createStorageClients(storage: StorageConfig, credential: () => TokenCredential): StorageClients {
  if (storage.kind === "connectionString") {
    const connectionString = expandConnectionString(storage.connectionString);
    const options = { retryOptions, allowInsecureConnection: usesPlainHttp(connectionString) };
    // The blob and queue SDKs sign with the account key, which they accept over plain HTTP (Azurite) as it is.
    let queues: QueueServiceClient | undefined;
    let blobs: BlobServiceClient | undefined;
    return {
      table: (name) => TableClient.fromConnectionString(connectionString, name, options),
      tableService: () => TableServiceClient.fromConnectionString(connectionString, options),
      queue: (name) =>
        (queues ??= QueueServiceClient.fromConnectionString(connectionString, { retryOptions: storageRetryOptions })).getQueueClient(name),
      blobContainer: (name) =>
        (blobs ??= BlobServiceClient.fromConnectionString(connectionString, { retryOptions: storageRetryOptions })).getContainerClient(name),
    };
  }
  let queues: QueueServiceClient | undefined;
  let blobs: BlobServiceClient | undefined;
  return {
    table: (name) => new TableClient(storage.tableEndpoint, name, credential(), { retryOptions }),
    tableService: () => new TableServiceClient(storage.tableEndpoint, credential(), { retryOptions }),
    queue: (name) => (queues ??= new QueueServiceClient(storage.queueEndpoint, credential(), { retryOptions: storageRetryOptions })).getQueueClient(name),
    blobContainer: (name) =>
      (blobs ??= new BlobServiceClient(storage.blobEndpoint, credential(), { retryOptions: storageRetryOptions })).getContainerClient(name),
  };
}
