import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { deliveryOf } from "../../../src/runs/queue_function.js";
import { queueTriggerSettings, secondsOf } from "../../../src/runs/queue_settings.js";

const hostJson = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "..", "host.json"), "utf8"));

describe("the queue trigger's settings", () => {
  it("are host.json's extensions.queues, which the local host's poller follows too", () => {
    expect(hostJson.extensions.queues).toEqual(queueTriggerSettings);
  });

  it("give up after as many deliveries as QUEUE_MAX_DEQUEUE_COUNT's default, so the handler knows the last one", () => {
    expect(hostJson.extensions.queues.maxDequeueCount).toBe(loadConfig({}).runs.maxDequeueCount);
  });

  it("hand messages over as they are (messageEncoding none), so that plain JSON reaches the handler instead of the poison queue", () => {
    expect(hostJson.extensions.queues.messageEncoding).toBe("none");
  });

  it("retry after the visibility timeout, in seconds", () => {
    expect(secondsOf(queueTriggerSettings.visibilityTimeout)).toBe(10);
    expect(secondsOf("01:02:03")).toBe(3723);
  });
});

describe("deliveryOf", () => {
  it("reads the message id and dequeue count of the trigger metadata, as numbers or text", () => {
    expect(deliveryOf({ triggerMetadata: { id: "m-1", dequeueCount: 3 } })).toEqual({ messageId: "m-1", dequeueCount: 3 });
    expect(deliveryOf({ triggerMetadata: { id: "m-1", dequeueCount: "2" } })).toEqual({ messageId: "m-1", dequeueCount: 2 });
  });

  it("counts a delivery without metadata as the first, without a message id", () => {
    expect(deliveryOf({ triggerMetadata: undefined })).toEqual({ messageId: undefined, dequeueCount: 1 });
    expect(deliveryOf({ triggerMetadata: { id: "", dequeueCount: "x" } })).toEqual({ messageId: undefined, dequeueCount: 1 });
  });
});
