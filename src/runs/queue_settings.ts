/**
 * The queue trigger's settings: host.json's `extensions.queues` for the Functions host, and the
 * same values for the local host's poller (a test keeps host.json equal to this).
 *
 * - maxDequeueCount: deliveries of a message before it is moved to `<queue>-poison`; equal to the
 *   default of QUEUE_MAX_DEQUEUE_COUNT, which tells the handler which delivery is the last.
 * - visibilityTimeout: how long a message whose handler threw stays invisible before it is
 *   delivered again (the delay between retries).
 * - batchSize / newBatchThreshold: messages fetched at once, and run in parallel, per instance.
 * - messageEncoding: none. With base64 (the default) the host poisons a message that is not
 *   base64 without calling the function, so a producer's plain JSON (what
 *   `QueueClient.sendMessage(JSON.stringify(...))` sends) would vanish without a run record; the
 *   handler reads plain JSON and base64 JSON itself (parseRunMessage).
 */
export const queueTriggerSettings = {
  maxDequeueCount: 5,
  visibilityTimeout: "00:00:10",
  batchSize: 16,
  newBatchThreshold: 8,
  maxPollingInterval: "00:00:02",
  messageEncoding: "none",
} as const;

/** "hh:mm:ss" as seconds. */
export function secondsOf(timeSpan: string): number {
  const [hours = 0, minutes = 0, seconds = 0] = timeSpan.split(":").map(Number);
  return hours * 3600 + minutes * 60 + seconds;
}
