import type { QueueClient } from "@azure/storage-queue";
import type { RunQueue } from "./run_record.js";
import { storageCall } from "../azure/storage_call.js";
import { StorageResource } from "../azure/storage_resource.js";

/** The Storage queue the plugin-runs trigger listens to; created on first use, and again if it went missing. */
export class StorageRunQueue implements RunQueue {
  private readonly resource: StorageResource;

  constructor(private readonly queue: QueueClient) {
    this.resource = new StorageResource("queue", () => this.queue.createIfNotExists());
  }

  send(messageText: string): Promise<void> {
    return storageCall("the run could not be queued", { service: "queue", operation: "sendMessage", resource: this.queue.name, endpoint: this.queue.url }, () =>
      this.resource.write(async () => {
        await this.queue.sendMessage(messageText);
      }),
    );
  }
}
