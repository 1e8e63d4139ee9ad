import type { HttpFunction } from "../src/http/http_function.js";
import { chat } from "./chat.js";
import { health } from "./health.js";
import { memoryAudit } from "./memory_audit.js";
import { pluginsExecute } from "./plugins_execute.js";
import { pluginsList } from "./plugins_list.js";

/** Every HTTP function of the app: registered with Azure Functions by main.ts, served by the local host. */
export const httpFunctions: readonly HttpFunction[] = [health, pluginsList, pluginsExecute, chat, memoryAudit];
