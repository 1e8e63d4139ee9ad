import {
  createDocument,
  type ZodOpenApiContentObject,
  type ZodOpenApiMediaTypeObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import { z } from "zod";
import type { Caller } from "../auth/caller.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { errorCodes, type ErrorCode } from "../errors/error_codes.js";
import { sessionIdHeader } from "../memory/session_id.js";
import { sessionIdSchema } from "../memory/session_id.js";
import type { PluginDescription, PluginRegistry } from "../plugins/plugin_registry.js";
import { pluginRunErrors } from "../plugins/plugin_run_errors.js";
import {
  approvalListSchema,
  auditPageQuerySchema,
  auditPageSchema,
  chatCompletionChunkSchema,
  chatCompletionHeadersSchema,
  chatCompletionRequestSchema,
  chatCompletionSchema,
  chatReplySchema,
  chatRequestSchema,
  awaitingApprovalRunSchema,
  consoleAssetPathSchema,
  decisionRequestSchema,
  decisionSchema,
  errorBodySchema,
  executeRequestSchema,
  executeResultSchema,
  healthReportSchema,
  livenessSchema,
  openAiErrorBodySchema,
  openAiModelListSchema,
  pluginListSchema,
  protectedResourceMetadataSchema,
  queuedRunSchema,
  runIdPathSchema,
  runViewSchema,
  sessionIdPathSchema,
} from "./api_schemas.js";
import { responseObjectSchema, responseStreamEventSchema, responsesRequestSchema } from "./responses_api_schemas.js";

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Where a plugin's input schema sits in `components.schemas`. */
export function pluginInputComponent(pluginName: string): string {
  return `plugin.${pluginName}.input`;
}

/**
 * `GET /api/openapi.json` of one caller. The document lists the plugins that caller may run,
 * exactly as `GET /api/plugins` does: a plugin's description can name configuration (the shell
 * plugin's allowed commands), and a caller who may not run a plugin is not shown it there either.
 * Everything else is the same for every caller, so a document is built once per set of visible
 * plugins (a handful of sets at most) and kept for the life of the process.
 */
export class OpenApiDocuments {
  private readonly built = new Map<string, OpenApiDocument>();

  constructor(
    private readonly registry: PluginRegistry,
    private readonly policy: PluginPolicy,
    private readonly version: string,
  ) {}

  forCaller(caller: Caller): OpenApiDocument {
    const plugins = this.registry.describeFor(caller, this.policy);
    const key = plugins.map((plugin) => plugin.name).join("\n");
    let document = this.built.get(key);
    if (!document) {
      document = buildOpenApiDocument({ version: this.version, plugins });
      this.built.set(key, document);
    }
    return document;
  }
}

/** The routes of functions/ (tests/e2e/openapi.test.ts checks that each registered one is here, and nothing else). */
export function buildOpenApiDocument(options: { version: string; plugins: readonly PluginDescription[] }): OpenApiDocument {
  const pluginSchemas = Object.fromEntries(options.plugins.map((plugin) => [pluginInputComponent(plugin.name), openApiSchemaOf(plugin.inputSchema)]));
  const pluginRefs = Object.keys(pluginSchemas).map((name) => ({ $ref: `#/components/schemas/${name}` }));
  const dataSchema = executeRequestSchema.shape.data;

  return createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "CodexContinue Functions",
        version: options.version,
        description:
          "A catalogue of plugins for chat applications, and the runs of them. Every error body is " +
          '`{"status":"error","error":{"code","message","details?"}}` with a stable `code`, but on the OpenAI-compatible `/v1` routes, ' +
          'which answer in OpenAI\'s shape, `{"error":{"message","type","param","code"}}`, with the same `code`. Any route may also answer ' +
          "404 `not_found` (unknown route), 405 `method_not_allowed` (with `Allow`) and, on the local host, 408 `request_timeout`, " +
          "400 `invalid_host_header` and 403 `host_not_allowed`.",
      },
      servers: [{ url: "/api" }],
      // Every route runs as a caller, but health, liveness and the web console (below, `security: []`).
      security: [{ bearerAuth: [] }],
      paths: {
        "/health": {
          get: {
            operationId: "health",
            summary: "Whether Redis, storage and the language model are reachable (probed at most about once a second)",
            security: [],
            responses: {
              "200": { description: "Redis and storage are up (`status` `degraded` when the configured model is not, or storage has lost something the next write creates again).", content: json(healthReportSchema) },
              "503": { description: "Redis or storage is down.", content: json(healthReportSchema) },
              ...errorResponses(["origin_not_allowed", "internal_error"]),
            },
          },
        },
        "/health/live": {
          get: {
            operationId: "healthLive",
            summary: "Liveness: the process is up; calls no dependency",
            security: [],
            responses: {
              "200": { description: "The process is serving.", content: json(livenessSchema) },
              ...errorResponses(["origin_not_allowed", "internal_error"]),
            },
          },
        },
        "/console": {
          get: {
            operationId: "console",
            summary: "The web console: a page for trying the plugins, chatting and reading a session's timeline (it calls this API)",
            security: [],
            responses: {
              "200": { description: "The page (`Cache-Control: no-cache`, a strict `Content-Security-Policy`).", content: { "text/html": { schema: { type: "string" } } } },
              "304": { description: "The page has not changed (`If-None-Match`)." },
              ...errorResponses(["origin_not_allowed", "not_found", "internal_error"]),
            },
          },
        },
        "/console/assets/{asset}": {
          get: {
            operationId: "consoleAsset",
            summary: "A script, stylesheet or icon of the web console, by its content-hashed name",
            security: [],
            requestParams: { path: consoleAssetPathSchema },
            responses: {
              "200": {
                description: "The file, cached for a year (`immutable`: its name changes with its content).",
                content: { "text/javascript": { schema: { type: "string" } }, "text/css": { schema: { type: "string" } }, "image/svg+xml": { schema: { type: "string" } } },
              },
              "304": { description: "The file has not changed (`If-None-Match`)." },
              ...errorResponses(["origin_not_allowed", "not_found", "internal_error"]),
            },
          },
        },
        "/openapi.json": {
          get: operation({
            operationId: "openapi",
            summary: "This document, with the plugins the caller may run",
            responses: { "200": { description: "An OpenAPI 3.1 document.", content: { "application/json": { schema: { type: "object" } } } } },
            errors: callerErrors,
          }),
        },
        "/plugins": {
          get: operation({
            operationId: "listPlugins",
            summary: "The plugins the caller may run, each with its input schema and the channels it may use",
            responses: { "200": { description: "The caller's catalogue.", content: json(pluginListSchema) } },
            errors: callerErrors,
          }),
        },
        "/plugins/execute": {
          post: operation({
            operationId: "executePlugin",
            summary: "Run a plugin; with `async: true`, queue the run",
            requestBody: { required: true, content: json(executeRequestSchema) },
            responses: {
              "200": { description: "The plugin ran.", content: json(executeResultSchema) },
              "202": {
                description:
                  "The run is queued (`async: true`), or, for a plugin whose runs wait for an approver (sync or async alike), " +
                  "it awaits an approver's decision (`status`/`state` `awaiting_approval`) and runs once approved; read it from `Location`.",
                headers: { Location: { description: "`/api/runs/{runId}`", required: true, schema: { type: "string" } } },
                content: json(z.union([queuedRunSchema, awaitingApprovalRunSchema])),
              },
            },
            errors: [...postErrors, ...pluginRunErrors, "run_exists"],
          }),
        },
        "/chat": {
          post: operation({
            operationId: "chat",
            summary: "Answer a chat message: `/run <plugin> <input>` runs a plugin, anything else goes to the language model",
            requestBody: { required: true, content: json(chatRequestSchema) },
            responses: {
              "200": {
                description:
                  "The reply; with `stream: true` (or `Accept: text/event-stream`), server-sent events in this order: " +
                  "`session` (`{sessionId}`), `token` (`{text}`) as the model writes, `tool_call` (`{id, name, arguments}`) and " +
                  "`tool_result` (`{id, name, outcome, result?, error?}`) as tools run, `awaiting_approval` " +
                  "(`{state, runId, plugin, expiresAt, location}`) when a run waits for an approver instead, then `reply` (the JSON answer) or " +
                  "`error` (the error body) when the answer fails after it started.",
                content: {
                  ...json(chatReplySchema),
                  "text/event-stream": { schema: { type: "string", description: "Server-sent events (see above)." } },
                },
              },
            },
            errors: [...postErrors, ...pluginRunErrors],
          }),
        },
        "/memory/audit/{sessionId}": {
          get: operation({
            operationId: "auditLog",
            summary: "A session's audit log, oldest first, a page at a time (another caller's session reads as empty)",
            requestParams: { path: sessionIdPathSchema, query: auditPageQuerySchema },
            responses: { "200": { description: "One page of the session's timeline.", content: json(auditPageSchema) } },
            errors: [...callerErrors, "invalid_request", "invalid_session_id", "storage_unavailable"],
          }),
        },
        "/runs/{runId}": {
          get: operation({
            operationId: "getRun",
            summary: "An asynchronous or queued run: its state and, once finished, its result or error",
            requestParams: { path: runIdPathSchema },
            responses: { "200": { description: "The run.", content: json(runViewSchema) } },
            errors: [...callerErrors, "invalid_request", "run_not_found", "storage_unavailable"],
          }),
        },
        "/approvals": {
          get: operation({
            operationId: "listApprovals",
            summary: "For approvers: the pending requests to run a plugin that they may decide (any requester's but their own)",
            responses: { "200": { description: "The pending requests, oldest first.", content: json(approvalListSchema) } },
            errors: [...callerErrors, "approval_forbidden", "storage_unavailable"],
          }),
        },
        "/approvals/{runId}": {
          post: operation({
            operationId: "decideApproval",
            summary: "For approvers: approve (the run then runs once, as its requester) or deny a pending request",
            description:
              "Exactly one decision wins: of approvers deciding at once, one gets 200 and the others 409 `approval_closed`. " +
              "A requester never decides their own request (but the one local caller of `AUTH_MODE=none`).",
            requestParams: { path: runIdPathSchema },
            requestBody: { required: true, content: json(decisionRequestSchema) },
            responses: { "200": { description: "The decision, as recorded.", content: json(decisionSchema) } },
            errors: [...postErrors, "approval_forbidden", "run_not_found", "approval_closed", "storage_unavailable"],
          }),
        },
        "/v1/models": {
          get: operation({
            operationId: "openAiListModels",
            summary: "OpenAI-compatible: the model ids chat completions answer as",
            responses: { "200": { description: "OpenAI's model list.", content: json(openAiModelListSchema) } },
            errors: callerErrors,
            errorBody: openAiErrorBodySchema,
          }),
        },
        "/v1/chat/completions": {
          post: operation({
            operationId: "openAiChatCompletions",
            summary:
              "OpenAI-compatible chat completions: the last (user) message is the turn, as in `POST /chat`; the messages before it are the history. Errors are in OpenAI's shape",
            requestParams: { header: chatCompletionHeadersSchema },
            requestBody: { required: true, content: json(chatCompletionRequestSchema) },
            responses: {
              "200": {
                description:
                  "A `chat.completion`; with `stream: true`, server-sent events whose data are `chat.completion.chunk`s " +
                  "(the role, the text as it is written, then `finish_reason` `stop`) and then `[DONE]`, or " +
                  '`{"error":{…}}` when the answer fails after it started.',
                content: {
                  ...json(chatCompletionSchema),
                  "text/event-stream": { schema: { type: "string", description: "Server-sent events (see above); each data but `[DONE]` is a ChatCompletionChunk." } },
                },
              },
            },
            errors: [...postErrors, ...pluginRunErrors, "not_found"],
            errorBody: openAiErrorBodySchema,
          }),
        },
        "/v1/responses": {
          post: operation({
            operationId: "openAiResponses",
            summary:
              "OpenAI-compatible Responses API, stateless: `input` is the turn (as message items, the last one, the user's, is; the items before it are the history). Errors are in OpenAI's shape",
            requestParams: { header: chatCompletionHeadersSchema },
            requestBody: { required: true, content: json(responsesRequestSchema) },
            responses: {
              "200": {
                description:
                  "A `response` whose `output` is the assistant's message; with `stream: true`, server-sent events named by their `type`, " +
                  "each with `sequence_number`: `response.created`, `response.in_progress`, `response.output_item.added`, " +
                  "`response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`, " +
                  "`response.output_item.done`, `response.completed`; or `response.failed` with the error's code when the answer fails after it started.",
                content: {
                  ...json(responseObjectSchema),
                  "text/event-stream": { schema: { type: "string", description: "Server-sent events (see above); each data is a ResponseStreamEvent." } },
                },
              },
            },
            errors: [...postErrors, ...pluginRunErrors, "not_found"],
            errorBody: openAiErrorBodySchema,
          }),
        },
        "/mcp": (() => {
          const mcpAnswers = {
            "200": {
              description: "The JSON-RPC response: `application/json`, or `text/event-stream` when the SDK streams it.",
              content: {
                "application/json": { schema: { type: "object", description: "A JSON-RPC 2.0 response of MCP." } },
                "text/event-stream": { schema: { type: "string", description: "Server-sent events carrying JSON-RPC messages." } },
              },
            },
            "202": { description: "A notification or response was accepted (nothing to answer)." },
          } as const;
          const mcpDescription =
            "MCP (Model Context Protocol) over Streamable HTTP, served by the official SDK: the 2026-07-28 revision (stateless; " +
            "`server/discover`, the protocol version in each request's `_meta`) and, for 2025-era clients, its stateless fallback " +
            "(`initialize`, `tools/list`, `tools/call`). Use an MCP client (docs/mcp-clients.md). The tools are the plugins " +
            "the caller may run on the mcp channel. A tool call that fails answers a result with `isError: true` whose text starts " +
            "with the error code, `error (<code>): <message>`, not a JSON-RPC error. Every request counts against the caller's rate " +
            "limit. In `jwt` mode a 401 names the endpoint's OAuth metadata (`WWW-Authenticate: Bearer resource_metadata=\"...\"`). " +
            "Besides the errors below, MCP's own: 400 with a JSON-RPC error body for a message that is not MCP, 404 for a method the " +
            "revision removed, 405 for the 2025 revision's `GET` stream and `DELETE` of a session (the server keeps none), 406 when " +
            "`Accept` does not name what the answer may be.";
          const mcpOperation = (operationId: string, summary: string, withBody: boolean) =>
            operation({
              operationId,
              summary,
              description: mcpDescription,
              requestParams: { header: mcpHeadersSchema },
              ...(withBody
                ? { requestBody: { required: true, content: { "application/json": { schema: { type: "object", description: "A JSON-RPC 2.0 request or notification of MCP." } } } } }
                : {}),
              responses: mcpAnswers,
              errors: [...callerErrors, "rate_limited", "payload_too_large"],
            });
          return {
            post: mcpOperation("mcp", "MCP: a JSON-RPC message of the protocol (the plugins the caller may run, as tools)", true),
            get: mcpOperation("mcpGet", "MCP: the 2025 revision's stream of server messages, not served (405)", false),
            delete: mcpOperation("mcpDelete", "MCP: the 2025 revision's end of a session, not served (405)", false),
          };
        })(),
        "/.well-known/oauth-protected-resource/mcp": {
          get: {
            operationId: "mcpResourceMetadata",
            summary: "The MCP endpoint's OAuth 2.0 Protected Resource Metadata (RFC 9728), named by its 401s in `jwt` mode",
            security: [],
            responses: {
              "200": {
                description: "`resource` (the MCP endpoint's URL, from `PUBLIC_BASE_URL`), `authorization_servers` (`AUTH_JWT_ISSUER`), `bearer_methods_supported`, `scopes_supported` (`AUTH_JWT_SCOPES`).",
                content: json(protectedResourceMetadataSchema),
              },
              ...errorResponses(["origin_not_allowed", "not_found", "internal_error"]),
            },
          },
        },
      },
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "A Microsoft Entra ID (or other OpenID issuer's) access token for the API (`AUTH_MODE=jwt`). Not needed with `AUTH_MODE=none`.",
          },
        },
        schemas: {
          ErrorBody: errorBodySchema,
          HealthReport: healthReportSchema,
          Liveness: livenessSchema,
          PluginList: pluginListSchema,
          ExecuteRequest: executeRequestSchema,
          ExecuteResult: executeResultSchema,
          QueuedRun: queuedRunSchema,
          AwaitingApprovalRun: awaitingApprovalRunSchema,
          ApprovalList: approvalListSchema,
          DecisionRequest: decisionRequestSchema,
          Decision: decisionSchema,
          ChatRequest: chatRequestSchema,
          ChatReply: chatReplySchema,
          AuditPage: auditPageSchema,
          RunView: runViewSchema,
          OpenAiErrorBody: openAiErrorBodySchema,
          OpenAiModelList: openAiModelListSchema,
          ChatCompletionRequest: chatCompletionRequestSchema,
          ChatCompletion: chatCompletionSchema,
          ChatCompletionChunk: chatCompletionChunkSchema,
          ResponsesRequest: responsesRequestSchema,
          Response: responseObjectSchema,
          ResponseStreamEvent: responseStreamEventSchema,
          ...pluginSchemas,
        },
      },
    },
    {
      override: ({ zodSchema, jsonSchema, io }) => {
        // `data` is whatever the named plugin reads: one of the plugins' schemas, or text.
        if (zodSchema === dataSchema || zodSchema === dataSchema.unwrap()) {
          jsonSchema.anyOf = [...pluginRefs, { type: "string" }];
        }
        // A request with an unknown field is refused (strict schemas), but an answer may gain
        // fields in a later version: clients must not be told to reject them.
        if (io === "output" && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
      },
    },
  );
}

/** The MCP endpoint's own header: a session whose audit log records the tool calls. */
const mcpHeadersSchema = z.object({
  [sessionIdHeader]: sessionIdSchema.optional().meta({ description: "A session whose audit log records the tool calls, as with `sessionId` elsewhere." }),
});

const callerErrors: readonly ErrorCode[] = ["unauthorized", "origin_not_allowed", "auth_unavailable", "internal_error"];
const postErrors: readonly ErrorCode[] = [...callerErrors, "rate_limited", "invalid_request", "payload_too_large", "invalid_session_id"];
const json = (schema: ZodOpenApiMediaTypeObject["schema"]): ZodOpenApiContentObject => ({ "application/json": { schema } });

/** An operation of a caller route, with an error response per status its codes answer, each with the route's error body. */
function operation(
  definition: Omit<ZodOpenApiOperationObject, "responses"> & {
    responses: ZodOpenApiResponsesObject;
    errors: readonly ErrorCode[];
    /** The OpenAI-compatible routes answer errors in OpenAI's shape. */
    errorBody?: typeof errorBodySchema | typeof openAiErrorBodySchema;
  },
): ZodOpenApiOperationObject {
  const { errors, responses, errorBody, ...rest } = definition;
  return { ...rest, responses: { ...responses, ...errorResponses(errors, errorBody) } };
}

/**
 * Codes grouped by their status in src/errors/error_codes.ts, each status with the headers that
 * come with it. In OpenAI's shape, `not_found` is the `model_not_found` of a model that is not served.
 */
function errorResponses(codes: readonly ErrorCode[], body: typeof errorBodySchema | typeof openAiErrorBodySchema = errorBodySchema): ZodOpenApiResponsesObject {
  const openAi = body === openAiErrorBodySchema;
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set(codes)) {
    const status = errorCodes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[`${status}` as keyof ZodOpenApiResponsesObject & `${number}`] = {
      description: statusCodes.map((code) => (openAi && code === "not_found" ? "`model_not_found`" : `\`${code}\``)).join(", "),
      ...(status === 401 ? { headers: { "WWW-Authenticate": { description: "`Bearer`, with `error=\"invalid_token\"` for a token that was refused.", required: true, schema: { type: "string" } } } } : {}),
      ...(statusCodes.includes("rate_limited")
        ? { headers: { "Retry-After": { description: "Seconds until the caller may send again (`rate_limited`).", schema: { type: "integer", minimum: 0 } } } }
        : {}),
      content: json(body),
    };
  }
  return responses;
}

/** A plugin's JSON Schema as a component: `$schema` belongs to a standalone document, not to a schema inside this one. */
function openApiSchemaOf(inputSchema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = inputSchema;
  return schema;
}
