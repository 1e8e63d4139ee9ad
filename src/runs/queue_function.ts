import type { InvocationContext } from "@azure/functions";
import { SpanKind } from "@opentelemetry/api";
import { incomingContext, inSpan } from "../telemetry/tracing.js";
import { describeThrown } from "../errors/app_error.js";
import type { AppConfig } from "../config/config.js";
import type { Services } from "../services.js";
import type { Delivery } from "./run_processor.js";

/**
 * Where a Storage queue function listens: all that the Functions host is told at start, before the
 * function's code is loaded (functions/registrations.ts holds every one).
 */
export interface QueueTrigger {
  readonly name: string;
  /** From the configuration, so that the trigger listens where the app enqueues. */
  readonly queueName: (config: AppConfig) => string;
  /** The app setting (or prefix of identity-based settings, `AzureWebJobsStorage__queueServiceUri`) of the trigger's storage. */
  readonly connection: string;
}

/**
 * One Storage queue function with its code: the Functions entry (functions/main.ts) calls it once
 * its module is loaded, and the local host's poller (src/host/queue_host.ts) calls the very same
 * handler. A handler that throws leaves the message for another delivery; after maxDequeueCount
 * deliveries the host moves it to `<queue>-poison`.
 */
export interface QueueFunction extends QueueTrigger {
  readonly handler: (message: unknown, context: InvocationContext, services: Services) => Promise<void>;
}

/** A queue function's code as its module exports it: bound to its trigger when the module is loaded. */
export interface QueueHandler {
  bind(trigger: QueueTrigger): QueueFunction;
}

/** Wraps the handler so that a failure is logged with the delivery it belongs to, then rethrown for the host to retry. */
export function defineQueueFunction(definition: Pick<QueueFunction, "handler">): QueueHandler {
  return { bind: (trigger) => traced({ ...trigger, ...definition }) };
}

function traced(definition: QueueFunction): QueueFunction {
  return {
    ...definition,
    // A CONSUMER span per delivery (a request in Application Insights), under the Functions host's trace when there is one.
    handler: (message, context, services) =>
      inSpan(
        `process ${definition.queueName(services.config)}`,
        {
          kind: SpanKind.CONSUMER,
          parent: incomingContext(context.traceContext),
          attributes: {
            "messaging.system": "azure_queue",
            "messaging.destination.name": definition.queueName(services.config),
            "faas.trigger": "pubsub",
            "faas.invocation_id": context.invocationId,
            "messaging.azure_queue.dequeue_count": deliveryOf(context).dequeueCount,
          },
        },
        () => deliver(definition, message, context, services),
      ),
  };
}

async function deliver(definition: QueueFunction, message: unknown, context: InvocationContext, services: Services): Promise<void> {
  try {
    await definition.handler(message, context, services);
  } catch (error) {
    const delivery = deliveryOf(context);
    services.logger.warn("queue message failed; it will be delivered again or moved to the poison queue", {
      function: definition.name,
      invocationId: context.invocationId,
      messageId: delivery.messageId,
      dequeueCount: delivery.dequeueCount,
      error: describeThrown(error),
    });
    throw error;
  }
}

/** The message id and dequeue count from a queue trigger's metadata (the worker hands numbers over as numbers or as text). */
export function deliveryOf(context: Pick<InvocationContext, "triggerMetadata">): Delivery {
  const metadata = context.triggerMetadata ?? {};
  const id = metadata.id;
  const count = Number(metadata.dequeueCount);
  return {
    messageId: typeof id === "string" && id !== "" ? id : undefined,
    dequeueCount: Number.isInteger(count) && count > 0 ? count : 1,
  };
}
