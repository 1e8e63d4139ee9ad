import type { ContainerClient } from "@azure/storage-blob";
import type { ResultStore, RunResultDocument } from "./run_record.js";
import { statusOf, storageCall } from "../azure/storage_call.js";
import { StorageResource } from "../azure/storage_resource.js";
import type { StorageDependency } from "../telemetry/tracing.js";

/** One folder per principal, so that two callers' runs with the same id never share a blob. */
function resultBlobName(owner: string, runId: string): string {
  return `${owner}/${runId}.json`;
}

/**
 * Results of asynchronous and queue-triggered runs: one JSON blob per run,
 * `<container>/<owner>/<runId>.json`, in a container created again if it went missing.
 */
export class BlobResultStore implements ResultStore {
  private readonly resource: StorageResource;

  constructor(private readonly container: ContainerClient) {
    this.resource = new StorageResource("container", () => this.container.createIfNotExists());
  }

  private dependency(operation: string): StorageDependency {
    return { service: "blob", operation, resource: this.container.containerName, endpoint: this.container.url };
  }

  write(owner: string, document: RunResultDocument): Promise<string> {
    const name = resultBlobName(owner, document.runId);
    const body = JSON.stringify(document);
    return storageCall("the result could not be stored", this.dependency("upload"), () =>
      this.resource.write(async () => {
        await this.container.getBlockBlobClient(name).upload(body, Buffer.byteLength(body, "utf8"), {
          blobHTTPHeaders: { blobContentType: "application/json; charset=utf-8" },
        });
        return name;
      }),
    );
  }

  read(owner: string, runId: string): Promise<RunResultDocument | undefined> {
    return storageCall("the result could not be read", this.dependency("download"), async () => {
      try {
        const buffer = await this.container.getBlockBlobClient(resultBlobName(owner, runId)).downloadToBuffer();
        return JSON.parse(buffer.toString("utf8")) as RunResultDocument;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    });
  }
}
