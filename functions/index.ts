import type { HttpFunction } from "../src/http/http_function.js";
import type { QueueFunction } from "../src/runs/queue_function.js";
import { chat } from "./chat.js";
import { consoleAsset, consolePage } from "./console.js";
import { health } from "./health.js";
import { healthLive } from "./health_live.js";
import { memoryAudit } from "./memory_audit.js";
import { openApi } from "./openapi.js";
import { openAiChatCompletions } from "./openai_chat_completions.js";
import { openAiModels } from "./openai_models.js";
import { pluginRunsQueue } from "./plugin_runs_queue.js";
import { pluginsExecute } from "./plugins_execute.js";
import { pluginsList } from "./plugins_list.js";
import { runsGet } from "./runs_get.js";

/** Every HTTP function of the app: registered with Azure Functions by main.ts, served by the local host. */
export const httpFunctions: readonly HttpFunction[] = [
  health,
  healthLive,
  pluginsList,
  pluginsExecute,
  chat,
  memoryAudit,
  runsGet,
  openApi,
  openAiModels,
  openAiChatCompletions,
  consolePage,
  consoleAsset,
];

/** Every Storage queue function of the app: registered by main.ts, polled by the local host. */
export const queueFunctions: readonly QueueFunction[] = [pluginRunsQueue];
