import type { TokenCredential } from "@azure/identity";
import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import type { StorageConfig } from "../config/config.js";
import { expandConnectionString } from "./connection_string.js";
import { storageRetryOptions } from "./storage_options.js";

/** Blob containers of the configured account (@azure/storage-blob; a chunk of its own in the bundle). */
export function createBlobClients(storage: StorageConfig, credential: () => TokenCredential): { blobContainer(containerName: string): ContainerClient } {
  let blobs: BlobServiceClient | undefined;
  // The blob SDK signs with the account key, which it accepts over plain HTTP (Azurite) as it is.
  const service = () =>
    (blobs ??=
      storage.kind === "connectionString"
        ? BlobServiceClient.fromConnectionString(expandConnectionString(storage.connectionString), { retryOptions: storageRetryOptions })
        : new BlobServiceClient(storage.blobEndpoint, credential(), { retryOptions: storageRetryOptions }));
  return { blobContainer: (name) => service().getContainerClient(name) };
}
