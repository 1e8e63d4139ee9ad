import * as z from "zod/mini";
import { settingDocs, wholeNumber } from "./setting.js";
import { tableName } from "./storage_settings.js";

/** A name of an Azure queue or blob container: 3-63 lowercase letters, digits and single hyphens. */
const azureLowercaseName = (fallback: string, kind: string) =>
  z._default(
    z.string().check(z.regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, `must be a ${kind} name: 3-63 lowercase letters, digits and single hyphens`)),
    fallback,
  );

/** Event-triggered and asynchronous plugin runs. */
export const runsSettings = z.pipe(
  z.object({
    PLUGIN_RUNS_QUEUE: azureLowercaseName("plugin-runs", "queue").register(settingDocs, {
      azure: "`plugin-runs`",
      description: "queue of event-triggered runs; exhausted messages go to `<name>-poison`",
    }),
    PLUGIN_RESULTS_CONTAINER: azureLowercaseName("plugin-results", "container").register(settingDocs, {
      azure: "`plugin-results`",
      description: "blob container of run results (`<runId>.json`)",
    }),
    RUNS_TABLE_NAME: tableName("pluginruns").register(settingDocs, {
      azure: "`pluginruns`",
      description: "table of run states (`GET /api/runs/{runId}`, idempotency by run id)",
    }),
    QUEUE_POLL_INTERVAL_MS: z._default(wholeNumber(50, 60_000), 1000).register(settingDocs, {
      azure: "not used (the Functions host polls)",
      description: "how often the local host polls the queue",
    }),
    QUEUE_MAX_DEQUEUE_COUNT: z._default(wholeNumber(1, 100), 5).register(settingDocs, {
      azure: "`5` (must equal host.json `maxDequeueCount`)",
      description: "deliveries of a message before it goes to the poison queue",
    }),
  }),
  z.transform((env) => ({
    queueName: env.PLUGIN_RUNS_QUEUE,
    poisonQueueName: `${env.PLUGIN_RUNS_QUEUE}-poison`,
    resultsContainer: env.PLUGIN_RESULTS_CONTAINER,
    tableName: env.RUNS_TABLE_NAME,
    /** The local host's polling of the queue (the Functions host has its own). */
    pollIntervalMs: env.QUEUE_POLL_INTERVAL_MS,
    /** Deliveries of one message before it goes to the poison queue; host.json's maxDequeueCount in Azure. */
    maxDequeueCount: env.QUEUE_MAX_DEQUEUE_COUNT,
  })),
);
