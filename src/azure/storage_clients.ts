import type { TokenCredential } from "@azure/identity";
import type { StorageConfig } from "../config/config.js";
import { createBlobClients } from "./blob_clients.js";
import { createQueueClients } from "./queue_clients.js";
import { createTableClients, type TableClients } from "./table_clients.js";
import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";

export { createAzureCredential } from "./azure_credential.js";

/**
 * Every client of the configured storage account. The app's services load each SDK on its own
 * when first needed (src/services.ts); this is the whole set, for the local host's queue polling,
 * the CLI and tests.
 */
export interface StorageClients extends TableClients {
  queue(queueName: string): QueueClient;
  blobContainer(containerName: string): ContainerClient;
}

export function createStorageClients(storage: StorageConfig, credential: () => TokenCredential): StorageClients {
  return { ...createTableClients(storage, credential), ...createQueueClients(storage, credential), ...createBlobClients(storage, credential) };
}
