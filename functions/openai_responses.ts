import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readBodyText } from "../src/http/request_body.js";
import { requestSignal } from "../src/http/request_signal.js";
import { eventStreamHeaders } from "../src/http/server_sent_events.js";
import { sessionIdFromHeader, sessionIdHeader } from "../src/memory/session_id.js";
import { assertKnownModel } from "../src/openai_compat/models.js";
import { openAiErrorResponse, type OpenAiErrorBody } from "../src/openai_compat/openai_error.js";
import { parseResponsesRequest, responseTurnOf } from "../src/openai_compat/responses_request.js";
import { completedResponse, newResponseIdentity, responseEvents, responseEventStream, type ResponseFailure } from "../src/openai_compat/responses_response.js";

/**
 * OpenAI's `POST /v1/responses` over the chat, stateless: `input` is the turn (as message items,
 * the last one is; the ones before it are the history). Nothing is stored; a turn is recorded
 * (memory and audit log) only in the session an `x-session-id` header names.
 */
export const openAiResponses = defineHttpFunction({
  errorResponse: openAiErrorResponse,
  handler: async (request, { context, services, caller }) => {
    const body = parseResponsesRequest(await readBodyText(request, services.config.http.maxBodyBytes));
    const { message, history } = responseTurnOf(body);
    assertKnownModel(body.model);
    const sessionId = sessionIdFromHeader(request.headers.get(sessionIdHeader));
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message, history, sessionId, record: sessionId !== undefined, signal: requestSignal(request) };
    const identity = newResponseIdentity(body);
    if (!body.stream) return jsonResponse(200, completedResponse(await services.chat.handle(turn), identity));

    const logger = services.logger.child({ function: "openai-responses", invocationId: context.invocationId });
    // Logged and masked as every error answer is; its stable code and message go into the stream.
    const failureOf = (error: unknown): ResponseFailure => {
      const { code, message } = (openAiErrorResponse(error, logger).jsonBody as OpenAiErrorBody).error;
      return { code: code ?? "internal_error", message };
    };
    const events = responseEvents(services.chat.events(turn, true), identity, failureOf);
    // Everything up to the answer's first text (no model configured, an unknown plugin, invalid input) still fails with its status.
    const first = await events.next();
    if (first.done) throw new Error("the chat answered nothing");
    return { status: 200, headers: eventStreamHeaders, body: responseEventStream(first.value, events, failureOf) };
  },
});
