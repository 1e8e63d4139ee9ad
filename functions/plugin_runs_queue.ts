import { defineQueueFunction, deliveryOf } from "../src/runs/queue_function.js";

/**
 * Runs `{runId?, plugin, data, sessionId?}` messages (plain or base64-encoded JSON) from the plugin-runs
 * queue through the same runner as the API; the result goes to `plugin-results/<runId>.json`.
 */
export const pluginRunsQueue = defineQueueFunction({
  handler: async (message, context, services) => {
    await services.runProcessor.process(message, deliveryOf(context));
  },
});
