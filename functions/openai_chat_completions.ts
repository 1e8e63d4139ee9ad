import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readBodyText } from "../src/http/request_body.js";
import { requestSignal } from "../src/http/request_signal.js";
import { dataOnlyEvents, eventStreamHeaders } from "../src/http/server_sent_events.js";
import { sessionIdFromHeader, sessionIdHeader } from "../src/memory/session_id.js";
import { parseChatCompletionRequest, turnOf } from "../src/openai_compat/chat_completion_request.js";
import { chatCompletion, completionChunks, newCompletionIdentity } from "../src/openai_compat/chat_completion_response.js";
import { assertKnownModel } from "../src/openai_compat/models.js";
import { openAiErrorResponse } from "../src/openai_compat/openai_error.js";

/**
 * OpenAI's `POST /v1/chat/completions` over the chat: the last message is the turn, the ones
 * before it the history. A turn is recorded (memory and audit log) only in the session an
 * `x-session-id` header names; without one it is stateless, as OpenAI's API is.
 */
export const openAiChatCompletions = defineHttpFunction({
  errorResponse: openAiErrorResponse,
  handler: async (request, { context, services, caller }) => {
    const body = parseChatCompletionRequest(await readBodyText(request, services.config.http.maxBodyBytes));
    const { message, history } = turnOf(body);
    assertKnownModel(body.model);
    const sessionId = sessionIdFromHeader(request.headers.get(sessionIdHeader));
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message, history, sessionId, record: sessionId !== undefined, signal: requestSignal(request) };
    const identity = newCompletionIdentity(body.model);
    if (!body.stream) return jsonResponse(200, chatCompletion(await services.chat.handle(turn), identity));

    const chunks = completionChunks(services.chat.events(turn, true), identity);
    // Everything up to the answer's first text (no model configured, an unknown plugin, invalid input) still fails with its status.
    const first = await chunks.next();
    if (first.done) throw new Error("the chat answered nothing");
    const logger = services.logger.child({ function: "openai-chat-completions", invocationId: context.invocationId });
    return { status: 200, headers: eventStreamHeaders, body: dataOnlyEvents(first.value, chunks, (error) => openAiErrorResponse(error, logger)) };
  },
});
