import { randomUUID } from "node:crypto";
import type { QueueClient } from "@azure/storage-queue";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startQueueHost, type QueueHost } from "../../../src/host/queue_host.js";
import type { QueueFunction } from "../../../src/runs/queue_function.js";
import type { StorageClients } from "../../../src/azure/storage_clients.js";
import type { Services } from "../../../src/services.js";
import { integrationServices } from "../../support/test_services.js";

interface Call {
  readonly message: unknown;
  readonly metadata: Record<string, unknown>;
}

let services: Services;
let storage: StorageClients;
const hosts: QueueHost[] = [];

beforeAll(async () => {
  services = integrationServices();
  storage = await services.storageClients!();
});

afterEach(async () => {
  await Promise.all(hosts.splice(0).map((h) => h.stop()));
});

afterAll(async () => {
  await services.close();
});

/** A queue function of a fresh queue of its own that records its calls and behaves as told. */
function recordingFunction(behave: (call: Call, calls: readonly Call[]) => Promise<void> = async () => {}) {
  const queueName = `host-${randomUUID().replace(/-/g, "").slice(0, 16)}`;
  const calls: Call[] = [];
  const fn: QueueFunction = {
    name: "recording",
    queueName: () => queueName,
    connection: "AzureWebJobsStorage",
    handler: async (message, context) => {
      const call = { message, metadata: { ...context.triggerMetadata } };
      calls.push(call);
      await behave(call, calls);
    },
  };
  return { fn, calls, queue: storage.queue(queueName), poison: storage.queue(`${queueName}-poison`) };
}

async function start(fn: QueueFunction, options: { maxDequeueCount?: number; processingVisibilitySeconds?: number } = {}): Promise<QueueHost> {
  const host = await startQueueHost({ functions: [fn], services, pollIntervalMs: 50, retryDelaySeconds: 0, ...options });
  hosts.push(host);
  return host;
}

async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const count = async (queue: QueueClient) => ((await queue.exists()) ? ((await queue.getProperties()).approximateMessagesCount ?? 0) : 0);
const peekTexts = async (queue: QueueClient) =>
  (await queue.exists()) ? (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => m.messageText) : [];
const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64");

describe("the local host's queue poller", () => {
  it("creates its queue, hands each message over as messageEncoding none does (JSON parsed, anything else as its text) with the trigger metadata, and deletes it once handled", async () => {
    const { fn, calls, queue } = recordingFunction();
    expect(await queue.exists()).toBe(false);
    await start(fn);
    await until(() => queue.exists(), "the queue created");
    const sent = await queue.sendMessage(JSON.stringify({ plugin: "echo", data: { text: "é" } }));
    const encoded = base64(JSON.stringify({ plugin: "echo" }));
    await queue.sendMessage(encoded);
    await queue.sendMessage("just text");
    await until(() => calls.length === 3, "the messages delivered");
    await until(async () => (await count(queue)) === 0, "the messages deleted");
    const json = calls.find((c) => c.metadata.id === sent.messageId)!;
    expect(json.message).toEqual({ plugin: "echo", data: { text: "é" } });
    expect(json.metadata).toMatchObject({ id: sent.messageId, dequeueCount: 1, popReceipt: expect.any(String), insertionTime: expect.any(String) });
    // Base64 is the handler's to read (parseRunMessage), as it is under the Functions host.
    expect(calls.map((c) => c.message)).toEqual(expect.arrayContaining([encoded, "just text"]));
  });

  it("delivers a message whose handler throws again, counting up, and moves it unchanged to <queue>-poison after maxDequeueCount", async () => {
    const { fn, calls, queue, poison } = recordingFunction(async () => {
      throw new Error("always fails");
    });
    await start(fn, { maxDequeueCount: 3 });
    const text = base64(JSON.stringify({ plugin: "echo", n: randomUUID() }));
    await queue.sendMessage(text);
    await until(async () => (await peekTexts(poison)).includes(text), "the message in the poison queue");
    expect(calls.map((c) => c.metadata.dequeueCount)).toEqual([1, 2, 3]);
    expect(await count(queue)).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toHaveLength(3);
  });

  it("deletes a message that succeeds on a later delivery, and poisons nothing", async () => {
    const { fn, calls, queue, poison } = recordingFunction(async (_call, all) => {
      if (all.length < 2) throw new Error("fails the first time");
    });
    await start(fn, { maxDequeueCount: 3 });
    await queue.sendMessage(base64("{}"));
    await until(async () => calls.length === 2 && (await count(queue)) === 0, "delivered twice and deleted");
    expect(calls.map((c) => c.metadata.dequeueCount)).toEqual([1, 2]);
    expect(await peekTexts(poison)).toEqual([]);
  });

  it("hands a message that is not base64 to the handler instead of poisoning it unseen", async () => {
    const { fn, calls, queue, poison } = recordingFunction();
    await start(fn);
    await queue.createIfNotExists();
    await queue.sendMessage("not base64 {json}");
    await until(async () => calls.length === 1 && (await count(queue)) === 0, "delivered and deleted");
    expect(calls[0]!.message).toBe("not base64 {json}");
    expect(await peekTexts(poison)).toEqual([]);
  });

  it("keeps a message hidden while its handler runs longer than the visibility timeout, so no other poller gets it", async () => {
    const { fn, calls, queue } = recordingFunction(() => new Promise((resolve) => setTimeout(resolve, 1800)));
    // Two pollers on one queue: without renewal the second would receive the message after a second.
    await start(fn, { processingVisibilitySeconds: 1 });
    await start(fn, { processingVisibilitySeconds: 1 });
    await queue.createIfNotExists();
    await queue.sendMessage(base64("{}"));
    await until(async () => calls.length === 1 && (await count(queue)) === 0, "handled once and deleted");
    expect(calls).toHaveLength(1);
  });

  it("stops polling on stop(), after settling the delivery in progress", async () => {
    let finished = false;
    const { fn, calls, queue } = recordingFunction(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      finished = true;
    });
    const host = await start(fn);
    await until(() => queue.exists(), "the queue created");
    await queue.sendMessage(base64("{}"));
    await until(() => calls.length === 1, "delivered");
    await host.stop();
    expect(finished).toBe(true);
    expect(await count(queue)).toBe(0);
    await queue.sendMessage(base64("{}"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(calls).toHaveLength(1);
    expect(await count(queue)).toBe(1);
  });
});
