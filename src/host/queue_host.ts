import { randomUUID } from "node:crypto";
import azureFunctions from "@azure/functions";
import type { QueueClient, ReceivedMessageItem } from "@azure/storage-queue";
import { StorageResource } from "../azure/storage_resource.js";
import { describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { QueueFunction } from "../runs/queue_function.js";
import { queueTriggerSettings, secondsOf } from "../runs/queue_settings.js";
import type { Services } from "../services.js";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { InvocationContext } = azureFunctions;

export interface QueueHostOptions {
  readonly functions: readonly QueueFunction[];
  readonly services: Services;
  /** Wait between polls of an empty queue; default QUEUE_POLL_INTERVAL_MS. */
  readonly pollIntervalMs?: number;
  /** Deliveries before a message goes to `<queue>-poison`; default QUEUE_MAX_DEQUEUE_COUNT. */
  readonly maxDequeueCount?: number;
  /** How long a message whose handler threw stays invisible before its next delivery; default host.json's visibilityTimeout. */
  readonly retryDelaySeconds?: number;
  /** How long a message is hidden while its handler runs; renewed halfway for as long as it runs. */
  readonly processingVisibilitySeconds?: number;
  /** Messages fetched, and handled in parallel, per poll; default host.json's batchSize. */
  readonly batchSize?: number;
}

export interface QueueHost {
  /** Stops polling and waits for the deliveries in progress to be settled. */
  stop(): Promise<void>;
}

interface PollerSettings {
  readonly pollIntervalMs: number;
  readonly maxDequeueCount: number;
  readonly retryDelaySeconds: number;
  readonly processingVisibilitySeconds: number;
  readonly batchSize: number;
}

/**
 * Runs the app's queue functions without the Functions host, the way the host does: each queue
 * is polled (created first if missing), every message's text is handed over as host.json's
 * `messageEncoding: none` has the Functions host do (parsed when it is JSON, the text otherwise;
 * the handler reads base64 itself) to the same handler with the trigger metadata (id,
 * dequeueCount, ...). A message whose handler returns is deleted; one whose handler throws
 * becomes visible again after the retry delay; one that fails its delivery number
 * maxDequeueCount is copied to `<queue>-poison` unchanged and deleted.
 */
export async function startQueueHost(options: QueueHostOptions): Promise<QueueHost> {
  const { services } = options;
  const storage = services.storageClients;
  if (!storage && options.functions.length > 0) throw new Error("queue functions need storage: set STORAGE_CONNECTION_STRING");
  const settings: PollerSettings = {
    pollIntervalMs: options.pollIntervalMs ?? services.config.runs.pollIntervalMs,
    maxDequeueCount: options.maxDequeueCount ?? services.config.runs.maxDequeueCount,
    retryDelaySeconds: options.retryDelaySeconds ?? secondsOf(queueTriggerSettings.visibilityTimeout),
    processingVisibilitySeconds: options.processingVisibilitySeconds ?? 30,
    batchSize: options.batchSize ?? queueTriggerSettings.batchSize,
  };
  if (options.functions.length === 0) return { stop: async () => {} };
  // The queue SDK is imported here, when polling starts (a chunk of its own in the bundle).
  const clients = await storage!();
  const pollers = options.functions.map((fn) => {
    const queueName = fn.queueName(services.config);
    return new QueuePoller(fn, services, clients.queue(queueName), clients.queue(`${queueName}-poison`), settings);
  });
  for (const poller of pollers) poller.start();
  return {
    stop: async () => {
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
  };
}

class QueuePoller {
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  // Created on the first message it takes, and again if it went missing.
  private readonly poisonQueue = new StorageResource("queue", () => this.poison.createIfNotExists());

  constructor(
    private readonly fn: QueueFunction,
    private readonly services: Services,
    private readonly queue: QueueClient,
    private readonly poison: QueueClient,
    private readonly settings: PollerSettings,
  ) {
    this.logger = services.logger.child({ component: "queue-host", function: fn.name, queue: queue.name });
  }

  start(): void {
    this.running ??= this.poll();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.wake?.();
    await this.running;
  }

  private get stopping(): boolean {
    return this.abort.signal.aborted;
  }

  private async poll(): Promise<void> {
    let queueReady = false;
    let failing = false;
    while (!this.stopping) {
      try {
        if (!queueReady) {
          await this.queue.createIfNotExists({ abortSignal: this.abort.signal });
          queueReady = true;
        }
        const { receivedMessageItems: messages } = await this.queue.receiveMessages({
          numberOfMessages: this.settings.batchSize,
          visibilityTimeout: this.settings.processingVisibilitySeconds,
          abortSignal: this.abort.signal,
        });
        if (failing) this.logger.info("queue reachable again");
        failing = false;
        if (messages.length > 0) {
          await Promise.all(messages.map((message) => this.deliver(message)));
          continue;
        }
      } catch (error) {
        if (this.stopping) break;
        // Said once per outage, not once per poll.
        if (!failing) this.logger.warn("queue could not be polled; trying again", { error: describeThrown(error) });
        failing = true;
      }
      await this.sleep(this.settings.pollIntervalMs);
    }
  }

  private async deliver(message: ReceivedMessageItem): Promise<void> {
    const { maxDequeueCount } = this.settings;
    const fields = { messageId: message.messageId, dequeueCount: message.dequeueCount };
    let popReceipt = message.popReceipt;
    try {
      // A message can outrun the count when a delivery never settled (the process died): the host does not run it again.
      if (message.dequeueCount > maxDequeueCount) return await this.toPoison(message, popReceipt, `delivered ${message.dequeueCount} times`);
      const invocationId = randomUUID();
      const context = new InvocationContext({
        invocationId,
        functionName: this.fn.name,
        triggerMetadata: {
          id: message.messageId,
          dequeueCount: message.dequeueCount,
          insertionTime: message.insertedOn.toISOString(),
          expirationTime: message.expiresOn.toISOString(),
          nextVisibleTime: message.nextVisibleOn.toISOString(),
          popReceipt,
        },
        logHandler: (level, ...args) => this.logger.debug(args.map(String).join(" "), { invocationId, level }),
      });
      // Keeps the message hidden for as long as the handler runs, as the Functions host does.
      let renewal = Promise.resolve();
      const renewEveryMs = (this.settings.processingVisibilitySeconds * 1000) / 2;
      const timer = setInterval(() => {
        renewal = renewal.then(async () => {
          try {
            const renewed = await this.queue.updateMessage(message.messageId, popReceipt, undefined, this.settings.processingVisibilitySeconds);
            if (renewed.popReceipt) popReceipt = renewed.popReceipt;
          } catch (error) {
            this.logger.warn("message visibility could not be renewed", { ...fields, error: describeThrown(error) });
          }
        });
      }, renewEveryMs);
      let failed = false;
      try {
        // As the Functions worker hands it over: parsed when it is JSON, the text otherwise.
        await this.fn.handler(parseJsonOrText(message.messageText), context, this.services);
      } catch {
        // Logged by the function's own wrapper.
        failed = true;
      } finally {
        clearInterval(timer);
        await renewal;
      }
      if (!failed) {
        await this.queue.deleteMessage(message.messageId, popReceipt);
      } else if (message.dequeueCount >= maxDequeueCount) {
        await this.toPoison(message, popReceipt, `failed ${message.dequeueCount} deliveries (maxDequeueCount ${maxDequeueCount})`);
      } else {
        await this.queue.updateMessage(message.messageId, popReceipt, undefined, this.settings.retryDelaySeconds);
      }
    } catch (error) {
      // Unsettled, the message reappears when its visibility runs out and is delivered again.
      this.logger.warn("message could not be settled; it will be delivered again", { ...fields, error: describeThrown(error) });
    }
  }

  /** Copies the message, as it is, to `<queue>-poison` and deletes it here. */
  private async toPoison(message: ReceivedMessageItem, popReceipt: string, reason: string): Promise<void> {
    await this.poisonQueue.write(() => this.poison.sendMessage(message.messageText));
    await this.queue.deleteMessage(message.messageId, popReceipt);
    this.logger.warn("message moved to the poison queue", {
      messageId: message.messageId,
      dequeueCount: message.dequeueCount,
      poisonQueue: this.poison.name,
      reason,
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
