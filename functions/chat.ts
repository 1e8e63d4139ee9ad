import { chatReplySchema, chatRequestSchema } from "../src/http/api_schemas.js";
import { errorResponse, jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { requestSignal } from "../src/http/request_signal.js";
import { eventStreamResponse, serverSentEvents } from "../src/http/server_sent_events.js";
import { pluginRunErrors } from "../src/plugins/plugin_run_errors.js";

export const chat = defineHttpFunction({
  operationId: "chat",
  summary: "Answer a chat message: `/run <plugin> <input>` runs a plugin, anything else goes to the language model",
  request: { body: chatRequestSchema },
  responses: {
    200: {
      description:
        "The reply; with `stream: true` (or `Accept: text/event-stream`), server-sent events in this order: " +
        "`session` (`{sessionId}`), `token` (`{text}`) as the model writes, `tool_call` (`{id, name, arguments}`) and " +
        "`tool_result` (`{id, name, outcome, result?, error?}`) as tools run, `awaiting_approval` " +
        "(`{state, runId, plugin, expiresAt, location}`) when a run waits for an approver instead, then `reply` (the JSON answer) or " +
        "`error` (the error body) when the answer fails after it started.",
      body: chatReplySchema,
      content: { "text/event-stream": "Server-sent events (see above)." },
    },
  },
  errors: [...pluginRunErrors, "invalid_session_id"],
  handler: async ({ body, request }, { context, services, caller }) => {
    const wantsStream = body.stream ?? (request.headers.get("accept") ?? "").includes("text/event-stream");
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message: body.message, sessionId: body.sessionId, signal: requestSignal(request) };
    if (!wantsStream) return jsonResponse(200, await services.chat.handle(turn));

    const events = services.chat.events(turn, true);
    // Everything up to the first event (validation, storing the message) still fails as plain JSON.
    const first = await events.next();
    if (first.done) throw new Error("the chat answered nothing");
    const logger = services.logger.child({ function: "chat", invocationId: context.invocationId });
    return eventStreamResponse(serverSentEvents(first.value, events, (error) => errorResponse(error, logger)));
  },
});
