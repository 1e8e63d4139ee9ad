import type { QueueClient } from "@azure/storage-queue";
import type { RunQueue } from "./run_record.js";
import { once, storageCall } from "../azure/storage_call.js";

/** The Storage queue the plugin-runs trigger listens to; created on first use. */
export class StorageRunQueue implements RunQueue {
  private readonly ensureQueue: () => Promise<void>;

  constructor(private readonly queue: QueueClient) {
    this.ensureQueue = once(() => this.queue.createIfNotExists());
  }

  send(messageText: string): Promise<void> {
    return storageCall("the run could not be queued", { service: "queue", operation: "sendMessage", resource: this.queue.name, endpoint: this.queue.url }, async () => {
      await this.ensureQueue();
      await this.queue.sendMessage(messageText);
    });
  }
}
