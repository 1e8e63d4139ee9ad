import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { requestSignal } from "../src/http/request_signal.js";
import { eventStreamResponse } from "../src/http/server_sent_events.js";
import { assertKnownModel } from "../src/openai_compat/models.js";
import { openAiErrorResponse, openAiErrors } from "../src/openai_compat/openai_error.js";
import { sessionHeaderSchema } from "../src/openai_compat/chat_completion_request.js";
import { parseResponsesRequest, responsesRequestSchema, responseTurnOf } from "../src/openai_compat/responses_request.js";
import {
  completedResponse,
  newResponseIdentity,
  responseEvents,
  responseEventStream,
  responseObjectSchema,
  responseStreamEventSchema,
  type ResponseFailure,
} from "../src/openai_compat/responses_response.js";
import { pluginRunErrors } from "../src/plugins/plugin_run_errors.js";

/**
 * OpenAI's `POST /v1/responses` over the chat, stateless: `input` is the turn (as message items,
 * the last one is; the ones before it are the history). Nothing is stored; a turn is recorded
 * (memory and audit log) only in the session an `x-session-id` header names.
 */
export const openAiResponses = defineHttpFunction({
  operationId: "openAiResponses",
  summary:
    "OpenAI-compatible Responses API, stateless: `input` is the turn (as message items, the last one, the user's, is; the items before it are the history). Errors are in OpenAI's shape",
  request: { headers: sessionHeaderSchema, body: responsesRequestSchema },
  parseBody: parseResponsesRequest,
  responses: {
    200: {
      description:
        "A `response` whose `output` is the assistant's message; with `stream: true`, server-sent events named by their `type`, " +
        "each with `sequence_number`: `response.created`, `response.in_progress`, `response.output_item.added`, " +
        "`response.content_part.added`, `response.output_text.delta`…, `response.output_text.done`, `response.content_part.done`, " +
        "`response.output_item.done`, `response.completed`; or `response.failed` with the error's code when the answer fails after it started.",
      body: responseObjectSchema,
      events: responseStreamEventSchema,
    },
  },
  errors: [...pluginRunErrors, "not_found", "invalid_session_id"],
  errorFormat: openAiErrors,
  handler: async ({ headers, body, request }, { context, services, caller }) => {
    const { message, history } = responseTurnOf(body);
    assertKnownModel(body.model);
    const sessionId = headers["x-session-id"];
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message, history, sessionId, record: sessionId !== undefined, signal: requestSignal(request) };
    const identity = newResponseIdentity(body);
    if (!body.stream) return jsonResponse(200, completedResponse(await services.chat.handle(turn), identity));

    const logger = services.logger.child({ function: "openai-responses", invocationId: context.invocationId });
    // Logged and masked as every error answer is; its stable code and message go into the stream.
    const failureOf = (error: unknown): ResponseFailure => {
      const { code, message } = openAiErrorResponse(error, logger).jsonBody.error;
      return { code, message };
    };
    const events = responseEvents(services.chat.events(turn, true), identity, failureOf);
    // Everything up to the answer's first text (no model configured, an unknown plugin, invalid input) still fails with its status.
    const first = await events.next();
    if (first.done) throw new Error("the chat answered nothing");
    return eventStreamResponse(responseEventStream(first.value, events, failureOf));
  },
});
