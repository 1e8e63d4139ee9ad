import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { requestSignal } from "../src/http/request_signal.js";
import { dataOnlyEvents, eventStreamResponse } from "../src/http/server_sent_events.js";
import { chatCompletionRequestSchema, parseChatCompletionRequest, sessionHeaderSchema, turnOf } from "../src/openai_compat/chat_completion_request.js";
import {
  chatCompletion,
  chatCompletionChunkSchema,
  chatCompletionSchema,
  completionChunks,
  newCompletionIdentity,
} from "../src/openai_compat/chat_completion_response.js";
import { assertKnownModel } from "../src/openai_compat/models.js";
import { openAiErrorResponse, openAiErrors } from "../src/openai_compat/openai_error.js";
import { pluginRunErrors } from "../src/plugins/plugin_run_errors.js";

/**
 * OpenAI's `POST /v1/chat/completions` over the chat: the last message is the turn, the ones
 * before it the history. A turn is recorded (memory and audit log) only in the session an
 * `x-session-id` header names; without one it is stateless, as OpenAI's API is.
 */
export const openAiChatCompletions = defineHttpFunction({
  operationId: "openAiChatCompletions",
  summary:
    "OpenAI-compatible chat completions: the last (user) message is the turn, as in `POST /chat`; the messages before it are the history. Errors are in OpenAI's shape",
  request: { headers: sessionHeaderSchema, body: chatCompletionRequestSchema },
  parseBody: parseChatCompletionRequest,
  responses: {
    200: {
      description:
        "A `chat.completion`; with `stream: true`, server-sent events whose data are `chat.completion.chunk`s " +
        "(the role, the text as it is written, then `finish_reason` `stop`) and then `[DONE]`, or " +
        '`{"error":{…}}` when the answer fails after it started.',
      body: chatCompletionSchema,
      events: chatCompletionChunkSchema,
    },
  },
  errors: [...pluginRunErrors, "not_found", "invalid_session_id"],
  errorFormat: openAiErrors,
  handler: async ({ headers, body, request }, { context, services, caller }) => {
    const { message, history } = turnOf(body);
    assertKnownModel(body.model);
    const sessionId = headers["x-session-id"];
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message, history, sessionId, record: sessionId !== undefined, signal: requestSignal(request) };
    const identity = newCompletionIdentity(body.model);
    if (!body.stream) return jsonResponse(200, chatCompletion(await services.chat.handle(turn), identity));

    const chunks = completionChunks(services.chat.events(turn, true), identity);
    // Everything up to the answer's first text (no model configured, an unknown plugin, invalid input) still fails with its status.
    const first = await chunks.next();
    if (first.done) throw new Error("the chat answered nothing");
    const logger = services.logger.child({ function: "openai-chat-completions", invocationId: context.invocationId });
    return eventStreamResponse(dataOnlyEvents(first.value, chunks, (error) => openAiErrorResponse(error, logger)));
  },
});
