/**
 * The HTTP API's shapes, as zod schemas. The request schemas are the ones the handlers in
 * functions/ parse with; the response schemas describe what they answer, and tests check real
 * answers against them. `GET /api/openapi.json` is generated from these very objects
 * (src/http/openapi_document.ts), so the document cannot say something the handlers do not do.
 *
 * `.meta()` here adds JSON Schema keywords only (descriptions, and the declared type of a field
 * that the handler checks itself to answer its own error code). It never sets `id`: that would
 * register the schema globally and turn every other `z.toJSONSchema` that embeds it into `$ref`s.
 */
import { z } from "zod";
import { channels } from "../auth/channel.js";
import { assetNamePattern } from "../console/console_assets.js";
import { errorCodes, type ErrorCode } from "../errors/error_codes.js";
import { runIdPattern } from "../runs/run_message.js";
import { pluginDataSchema } from "../plugins/plugin_input.js";
import { runIdField, sessionIdField, sessionIdHeaderField } from "./request_fields.js";
import { runStates } from "../runs/run_record.js";
import { maxReasonChars } from "../approvals/approval_request.js";

// ---- requests --------------------------------------------------------------------------------

const bodySessionId = sessionIdField.meta({ description: "The session to use; a new one is started when omitted. 1-128 letters, digits, '_' or '-'." });

/** `POST /api/chat`. */
export const chatRequestSchema = z.strictObject({
  message: z
    .string()
    .trim()
    .min(1, "message must not be empty")
    .max(32_000)
    .meta({ description: "`/run <plugin> <input>` runs a plugin; anything else goes to the language model." }),
  sessionId: bodySessionId.optional(),
  stream: z.boolean().optional().meta({ description: "Answer with server-sent events (as `Accept: text/event-stream` does)." }),
}).meta({ id: "ChatRequest" });

/** `POST /api/plugins/execute`. */
export const executeRequestSchema = z.strictObject({
  plugin: z.string().min(1).max(64).meta({ description: "A plugin's name or alias, as listed by `GET /api/plugins`." }),
  data: pluginDataSchema.optional(),
  sessionId: bodySessionId.optional(),
  /** Queue the run and answer 202 at once; the result is read from GET /api/runs/{runId}. */
  async: z.boolean().optional().meta({ description: "Queue the run and answer 202 at once; read the result from `GET /api/runs/{runId}`." }),
  /** The caller's own id for an asynchronous run. */
  runId: runIdField.optional().meta({ description: "The caller's own id for an asynchronous run (with `async: true` only)." }),
}).meta({ id: "ExecuteRequest" });

/** `POST /api/approvals/{runId}`. */
export const decisionRequestSchema = z.strictObject({
  decision: z.enum(["approve", "deny"]).meta({ description: "`approve` runs the request once, as its requester; `deny` closes it." }),
  reason: z
    .string()
    .trim()
    .min(1)
    .max(maxReasonChars)
    .optional()
    .meta({ description: "Why; recorded with the decision in the requester's timeline." }),
}).meta({ id: "DecisionRequest" });

export const maxAuditPageSize = 200;

/** The query of `GET /api/memory/audit/{sessionId}`. */
export const auditPageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(maxAuditPageSize).default(50).meta({ description: "Entries per page." }),
  cursor: z.string().min(1).max(512).optional().meta({ description: "The `nextCursor` of the previous page." }),
});

/** Path parameters: checked by the handlers with the same patterns. */
export const sessionIdPathSchema = z.object({ sessionId: sessionIdField });
export const runIdPathSchema = z.object({ runId: runIdField });
/** `GET /api/console/assets/{asset}`: one built file of the web console by its content-hashed name. */
export const consoleAssetPathSchema = z.object({
  asset: z.string().regex(assetNamePattern).meta({ description: "A file name the console's page refers to, such as `index-<hash>.js`." }),
});

// ---- responses -------------------------------------------------------------------------------

const errorCodeNames = Object.keys(errorCodes) as [ErrorCode, ...ErrorCode[]];

/** `GET /api/health/live`. */
export const livenessSchema = z.object({
  status: z.literal("ok"),
  version: z.string(),
}).meta({ id: "Liveness" });

const checkStatus = z.enum(["ok", "down", "not_configured"]);

/** `GET /api/health`. */
export const healthReportSchema = z.object({
  status: z
    .enum(["ok", "degraded", "unhealthy"])
    .meta({ description: "`degraded`: Redis and storage are up, but the configured language model is not, or storage has lost something the app writes (`checks.storage.missing`)." }),
  version: z.string(),
  checks: z.object({
    redis: z.object({ status: checkStatus, kind: z.string() }),
    storage: z.object({
      status: z.enum(["ok", "degraded", "down"]),
      missing: z
        .array(z.string())
        .optional()
        .meta({ description: "With `degraded`: each table, queue or container the app writes that has gone missing since it was seen (`table pluginruns`); the next write creates it again." }),
    }),
    llm: z.object({ status: checkStatus, provider: z.string().optional(), model: z.string().optional() }),
  }),
}).meta({ id: "HealthReport" });

/** A JSON Schema (the plugin's input, in JSON Schema 2020-12). */
const jsonSchemaObject = z.record(z.string(), z.unknown()).meta({ description: "A JSON Schema (draft 2020-12)." });

/** `GET /api/plugins`. */
export const pluginListSchema = z.object({
  plugins: z.array(
    z.object({
      name: z.string(),
      description: z.string(),
      aliases: z.array(z.string()),
      inputSchema: jsonSchemaObject,
      timeoutMs: z.number().int(),
      channels: z.array(z.enum(channels)).meta({ description: "The channels on which this caller may run the plugin." }),
    }),
  ),
}).meta({ id: "PluginList" });

const runIdValue = z.string().regex(runIdPattern);
const anyJson = z.unknown().meta({ description: "Any JSON value." });

/** `POST /api/plugins/execute`, synchronous: 200. */
export const executeResultSchema = z.object({
  status: z.literal("success"),
  plugin: z.string().meta({ description: "The plugin's own name (also when called by an alias)." }),
  result: anyJson,
  durationMs: z.number(),
  runId: runIdValue,
  cached: z.boolean().meta({ description: "The result came from the result cache." }),
}).meta({ id: "ExecuteResult" });

/** `POST /api/plugins/execute` with `async: true`: 202. */
export const queuedRunSchema = z.object({
  status: z.literal("queued"),
  runId: runIdValue,
  plugin: z.string(),
  location: z.string().meta({ description: "Where the run is read: `/api/runs/{runId}` (also the `Location` header)." }),
}).meta({ id: "QueuedRun" });

/** A run the policy holds for an approver, on every channel (the 202 of execute adds `status`). */
const awaitingApprovalFields = {
  state: z.literal("awaiting_approval"),
  runId: runIdValue,
  plugin: z.string(),
  expiresAt: z.string().meta({ description: "Until when an approver may decide; after it, the request is expired." }),
  location: z.string().meta({ description: "Where the requester reads the run: `/api/runs/{runId}` (also the `Location` header)." }),
};
const awaitingApprovalSchema = z.object(awaitingApprovalFields);

/** `POST /api/plugins/execute`, sync or async, of a plugin whose runs wait for an approver: 202. */
export const awaitingApprovalRunSchema = z.object({ status: z.literal("awaiting_approval"), ...awaitingApprovalFields }).meta({ id: "AwaitingApprovalRun" });

/** `GET /api/approvals`. */
export const approvalListSchema = z.object({
  approvals: z
    .array(
      z.object({
        runId: runIdValue,
        plugin: z.string(),
        input: anyJson.meta({ description: "The input as the plugin validated it: what runs if approved." }),
        requester: z.string().meta({ description: "The requester's principal id (a token's `oid`, else `sub`)." }),
        channel: z.enum(channels).nullable().meta({ description: "Where the run was asked for; it runs there once approved." }),
        requestedAt: z.string(),
        expiresAt: z.string(),
      }),
    )
    .meta({ description: "The pending requests this approver may decide (not their own), oldest first." }),
}).meta({ id: "ApprovalList" });

/** `POST /api/approvals/{runId}`: 200. */
export const decisionSchema = z.object({
  runId: runIdValue,
  plugin: z.string(),
  state: z.enum(["approved", "denied"]).meta({ description: "`approved`: the run is queued and runs once, as its requester." }),
  decidedBy: z.string().meta({ description: "The approver's principal id." }),
  decidedAt: z.string(),
  reason: z.string().optional(),
}).meta({ id: "Decision" });

const runError = z.object({ code: z.string(), message: z.string() });

/** `GET /api/runs/{runId}`. */
export const runViewSchema = z.object({
  runId: runIdValue,
  plugin: z.string().nullable().meta({ description: "Null for a queue message that named no plugin." }),
  state: z.enum(runStates).meta({
    description:
      "`awaiting_approval` until an approver decides (then `approved`, and on as any run: `running`, `succeeded` or `failed`; or `denied`), `expired` when nobody decided in time.",
  }),
  createdAt: z.string(),
  updatedAt: z.string(),
  attempts: z.number().int(),
  sessionId: z.string().optional(),
  durationMs: z.number().optional(),
  result: anyJson.optional().meta({ description: "Once succeeded: the result." }),
  error: runError.optional().meta({ description: "Once failed: why." }),
  lastError: runError.optional().meta({ description: "While queued or running again after a retryable failure: that failure." }),
  messageText: z.string().optional().meta({ description: "A rejected queue message's text (shortened), as it arrived." }),
  channel: z.enum(channels).optional().meta({ description: "The channel the run was asked on." }),
  approval: z
    .object({
      expiresAt: z.string(),
      decidedBy: z.string().optional().meta({ description: "The approver's principal id." }),
      decidedAt: z.string().optional(),
      reason: z.string().optional(),
    })
    .optional()
    .meta({ description: "A run that waits, or waited, for an approver: until when, and once decided, by whom, when and why." }),
}).meta({ id: "RunView" });

/** `POST /api/chat`: the JSON answer, and the data of the final `reply` event of a stream. */
export const chatReplySchema = z.object({
  sessionId: z.string(),
  reply: z.string(),
  source: z.enum(["plugin", "llm"]),
  plugin: z.string().optional(),
  result: anyJson.optional(),
  runId: z.string().optional(),
  toolCalls: z.number().int().optional().meta({ description: "Tool calls the model made on the way to this reply." }),
  approval: awaitingApprovalSchema.optional().meta({ description: "`/run` of a plugin whose runs wait for an approver: the request (nothing ran yet)." }),
}).meta({ id: "ChatReply" });

const auditEntrySchema = z.object({
  id: z.string(),
  sessionId: z.string(),
  timestamp: z.string(),
  type: z.enum(["user_message", "reply", "tool_call", "plugin_run", "memory_cleared", "approval_requested", "approval_decided"]),
  content: z.string().optional(),
  source: z.enum(["plugin", "llm"]).optional(),
  plugin: z.string().optional(),
  runId: z.string().optional(),
  input: anyJson.optional(),
  result: anyJson.optional(),
  outcome: z.string().optional().meta({
    description: "`success`, or the error code the run ended with; `awaiting_approval` for a request, `approved`, `denied` or `expired` for a decision.",
  }),
  errorMessage: z.string().optional(),
  durationMs: z.number().optional(),
  expiresAt: z.string().optional().meta({ description: "A request: until when an approver may decide it." }),
  approver: z.string().optional().meta({ description: "A decision: the approver's principal id." }),
  reason: z.string().optional().meta({ description: "A decision: the reason the approver gave." }),
  truncated: z.boolean().optional().meta({ description: "A field was longer than a table property may hold and was shortened." }),
});

/** `GET /api/memory/audit/{sessionId}`: oldest first. */
export const auditPageSchema = z.object({
  sessionId: z.string(),
  entries: z.array(auditEntrySchema),
  nextCursor: z.string().nullable().meta({ description: "Pass it as `cursor` for the next page; null on the last one." }),
}).meta({ id: "AuditPage" });

// ---- OpenAI-compatible routes (`/api/v1`) ----------------------------------------------------

/*
 * OpenAI's chat completions request as its clients send it. What this backend acts on is `model`,
 * `messages` and `stream`; the common options it accepts without acting on them (sampling, token
 * limits, the client's own `tools`: the model is offered the plugins instead) have their types
 * checked; any other field is accepted and ignored, as clients add their own.
 */
const openAiContentPart = z.looseObject({ type: z.string(), text: z.unknown().optional() });
const openAiContent = z
  .union([z.string(), z.array(openAiContentPart)], { error: "expected a string or an array of content parts" })
  .meta({ description: "Text, or an array of content parts of which only `text` parts (and an assistant's `refusal` parts) are supported." });
const openAiToolCall = z.looseObject({
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string(), arguments: z.string().optional() }),
});
const openAiNumber = z.number().nullish().meta({ description: "Accepted; not acted on." });
const openAiTokenCount = z.number().int().min(0).nullish().meta({ description: "Accepted; not acted on." });

/** `POST /api/v1/chat/completions`. */
export const chatCompletionRequestSchema = z.looseObject({
  model: z.string().min(1, "a model is required: GET /v1/models lists them").meta({ description: "A model id of `GET /api/v1/models`: `codexcontinue`." }),
  messages: z
    .array(
      z.discriminatedUnion(
        "role",
        [
          z.looseObject({ role: z.enum(["system", "developer"]), content: openAiContent, name: z.string().nullish() }),
          z.looseObject({ role: z.literal("user"), content: openAiContent, name: z.string().nullish() }),
          z.looseObject({
            role: z.literal("assistant"),
            content: openAiContent.nullish(),
            name: z.string().nullish(),
            refusal: z.string().nullish(),
            tool_calls: z.array(openAiToolCall).nullish(),
          }),
          z.looseObject({ role: z.literal("tool"), content: openAiContent, tool_call_id: z.string() }),
        ],
        { error: "expected one of the roles 'system', 'developer', 'user', 'assistant', 'tool'" },
      ),
    )
    .min(1, "at least one message is required")
    .meta({
      description:
        "The conversation. The last message must be the user's: it is the turn (`/run <plugin> <input>` runs a plugin, anything else goes to the language model); the messages before it are the history the model sees.",
    }),
  stream: z.boolean().nullish().meta({ description: "Answer with `chat.completion.chunk` server-sent events, ending with `data: [DONE]`." }),
  user: z.string().max(256).nullish().meta({ description: "Accepted; the caller is who authenticated." }),
  n: z.literal(1, "only one choice (n: 1) is produced").nullish(),
  stream_options: z.looseObject({}).nullish().meta({ description: "Accepted; no usage is reported." }),
  temperature: openAiNumber,
  top_p: openAiNumber,
  presence_penalty: openAiNumber,
  frequency_penalty: openAiNumber,
  max_tokens: openAiTokenCount,
  max_completion_tokens: openAiTokenCount,
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string())]).nullish(),
  tools: z.array(z.looseObject({})).nullish().meta({ description: "Accepted and not used: the model is offered the plugins the caller may run, and they run on the server." }),
  tool_choice: z.union([z.string(), z.looseObject({})]).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: z.looseObject({}).nullish(),
  logit_bias: z.record(z.string(), z.number()).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  store: z.boolean().nullish(),
}).meta({ id: "ChatCompletionRequest" });

/** The optional header of `POST /api/v1/chat/completions`. */
export const chatCompletionHeadersSchema = z.object({
  "x-session-id": sessionIdHeaderField.optional().meta({
    description: "Records the turn in this session of the caller's (its memory and its audit log, `GET /api/memory/audit/{sessionId}`); without it nothing is recorded.",
  }),
});

/** `GET /api/v1/models`. */
export const openAiModelListSchema = z.object({
  object: z.literal("list"),
  data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() })),
}).meta({ id: "OpenAiModelList" });

/** `POST /api/v1/chat/completions`: the JSON answer. */
export const chatCompletionSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion"),
  created: z.number().int().meta({ description: "Unix seconds." }),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      message: z.object({ role: z.literal("assistant"), content: z.string(), refusal: z.null() }),
      logprobs: z.null(),
      finish_reason: z.literal("stop"),
    }),
  ),
}).meta({ id: "ChatCompletion" });

/** `POST /api/v1/chat/completions` with `stream: true`: the data of each server-sent event but the last, `[DONE]`. */
export const chatCompletionChunkSchema = z.object({
  id: z.string().meta({ description: "The same in every chunk of one answer." }),
  object: z.literal("chat.completion.chunk"),
  created: z.number().int(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({ role: z.literal("assistant").optional(), content: z.string().optional() }).meta({
        description: "The first chunk has the role, the next ones the text as the model writes it (a plugin's reply comes whole), the last one nothing.",
      }),
      logprobs: z.null(),
      finish_reason: z.literal("stop").nullable().meta({ description: "`stop` in the last chunk." }),
    }),
  ),
}).meta({ id: "ChatCompletionChunk" });

/** Every error answer of the `/api/v1` routes, as OpenAI's clients read it. */
export const openAiErrorBodySchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.enum(["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error", "server_error"]),
    param: z.string().nullable().meta({ description: "The request field the error is about, such as `messages[0].content`." }),
    code: z.enum([...errorCodeNames, "model_not_found"]).meta({ description: "The project's stable code; `model_not_found` for a model that is not served." }),
  }),
}).meta({ id: "OpenAiErrorBody" });

// ---- the MCP endpoint's OAuth metadata ---------------------------------------------------------

/** RFC 9728's document as the MCP endpoint's metadata has it (src/mcp/protected_resource_metadata.ts). */
export const protectedResourceMetadataSchema = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()),
  bearer_methods_supported: z.array(z.literal("header")),
  scopes_supported: z.array(z.string()).optional(),
  resource_name: z.string(),
});
