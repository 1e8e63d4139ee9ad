import { lazyHttpFunction, lazyQueueFunction, type LazyHttpFunction, type LazyQueueFunction } from "../src/lazy/lazy_function.js";
import { mcpResourceMetadataRoute, mcpRoute } from "../src/mcp/mcp_routes.js";

/**
 * Every function of the app: its name, methods, route and access (or queue trigger), written here
 * and nowhere else, and the module that holds its code. The Functions entry (main.ts) registers
 * these at start and loads a module on its function's first invocation; the local host serves them
 * all loaded (index.ts).
 */
export const httpRegistrations: readonly LazyHttpFunction[] = [
  lazyHttpFunction({ name: "health", methods: ["GET"], route: "health", access: "public" }, async () => (await import("./health.js")).health),
  lazyHttpFunction(
    { name: "health-live", methods: ["GET"], route: "health/live", access: "public" },
    async () => (await import("./health_live.js")).healthLive,
  ),
  lazyHttpFunction({ name: "plugins-list", methods: ["GET"], route: "plugins", access: "caller" }, async () => (await import("./plugins_list.js")).pluginsList),
  lazyHttpFunction(
    { name: "plugins-execute", methods: ["POST"], route: "plugins/execute", access: "caller" },
    async () => (await import("./plugins_execute.js")).pluginsExecute,
  ),
  lazyHttpFunction({ name: "chat", methods: ["POST"], route: "chat", access: "caller" }, async () => (await import("./chat.js")).chat),
  lazyHttpFunction(
    { name: "memory-audit", methods: ["GET"], route: "memory/audit/{sessionId}", access: "caller" },
    async () => (await import("./memory_audit.js")).memoryAudit,
  ),
  lazyHttpFunction({ name: "runs-get", methods: ["GET"], route: "runs/{runId}", access: "caller" }, async () => (await import("./runs_get.js")).runsGet),
  lazyHttpFunction(
    { name: "approvals-list", methods: ["GET"], route: "approvals", access: "caller" },
    async () => (await import("./approvals_list.js")).approvalsList,
  ),
  lazyHttpFunction(
    { name: "approvals-decide", methods: ["POST"], route: "approvals/{runId}", access: "caller" },
    async () => (await import("./approvals_decide.js")).approvalsDecide,
  ),
  // The document of every function here.
  lazyHttpFunction({ name: "openapi", methods: ["GET"], route: "openapi.json", access: "caller" }, async () =>
    (await import("./openapi.js")).openApi(httpRegistrations),
  ),
  lazyHttpFunction(
    { name: "openai-models", methods: ["GET"], route: "v1/models", access: "caller" },
    async () => (await import("./openai_models.js")).openAiModels,
  ),
  lazyHttpFunction(
    { name: "openai-chat-completions", methods: ["POST"], route: "v1/chat/completions", access: "caller" },
    async () => (await import("./openai_chat_completions.js")).openAiChatCompletions,
  ),
  lazyHttpFunction(
    { name: "openai-responses", methods: ["POST"], route: "v1/responses", access: "caller" },
    async () => (await import("./openai_responses.js")).openAiResponses,
  ),
  // GET and DELETE too, so that the MCP SDK, not the host, answers what it does not serve (405).
  lazyHttpFunction({ name: "mcp", methods: ["POST", "GET", "DELETE"], route: mcpRoute, access: "caller" }, async () => (await import("./mcp.js")).mcp),
  lazyHttpFunction(
    { name: "mcp-resource-metadata", methods: ["GET"], route: mcpResourceMetadataRoute, access: "public" },
    async () => (await import("./mcp_resource_metadata.js")).mcpResourceMetadata,
  ),
  lazyHttpFunction({ name: "console", methods: ["GET"], route: "console", access: "public" }, async () => (await import("./console.js")).consolePage),
  lazyHttpFunction(
    { name: "console-asset", methods: ["GET"], route: "console/assets/{asset}", access: "public" },
    async () => (await import("./console.js")).consoleAsset,
  ),
];

export const queueRegistrations: readonly LazyQueueFunction[] = [
  lazyQueueFunction(
    { name: "plugin-runs", queueName: (config) => config.runs.queueName, connection: "AzureWebJobsStorage" },
    async () => (await import("./plugin_runs_queue.js")).pluginRunsQueue,
  ),
];
