import type { TokenCredential } from "@azure/identity";
import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import type { StorageConfig } from "../config/config.js";
import { expandConnectionString } from "./connection_string.js";
import { storageRetryOptions } from "./storage_options.js";

/** Queue clients of the configured account (@azure/storage-queue; a chunk of its own in the bundle). */
export function createQueueClients(storage: StorageConfig, credential: () => TokenCredential): { queue(queueName: string): QueueClient } {
  let queues: QueueServiceClient | undefined;
  // The queue SDK signs with the account key, which it accepts over plain HTTP (Azurite) as it is.
  const service = () =>
    (queues ??=
      storage.kind === "connectionString"
        ? QueueServiceClient.fromConnectionString(expandConnectionString(storage.connectionString), { retryOptions: storageRetryOptions })
        : new QueueServiceClient(storage.queueEndpoint, credential(), { retryOptions: storageRetryOptions }));
  return { queue: (name) => service().getQueueClient(name) };
}
