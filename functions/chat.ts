import { z } from "zod";
import { chatEventSchema, chatReplySchema } from "../src/chat/chat_events.js";
import { errorResponse, jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { sessionIdField } from "../src/http/request_fields.js";
import { requestSignal } from "../src/http/request_signal.js";
import { eventStreamResponse, serverSentEvents } from "../src/http/server_sent_events.js";
import { pluginRunErrors } from "../src/plugins/plugin_run_errors.js";

const chatRequestSchema = z
  .strictObject({
    message: z
      .string()
      .trim()
      .min(1, "message must not be empty")
      .max(32_000)
      .meta({ description: "`/run <plugin> <input>` runs a plugin; anything else goes to the language model." }),
    sessionId: sessionIdField.optional().meta({ description: "The session to use; a new one is started when omitted. 1-128 letters, digits, '_' or '-'." }),
    stream: z.boolean().optional().meta({ description: "Answer with server-sent events (as `Accept: text/event-stream` does)." }),
  })
  .meta({ id: "ChatRequest" });

export const chat = defineHttpFunction({
  operationId: "chat",
  summary: "Answer a chat message: `/run <plugin> <input>` runs a plugin, anything else goes to the language model",
  request: { body: chatRequestSchema },
  responses: {
    200: {
      description:
        "The reply; with `stream: true` (or `Accept: text/event-stream`), server-sent events named by a ChatEvent's `type`, " +
        "the rest of it their data, in this order: `session`, `token` as the model writes, `tool_call` and `tool_result` as tools run, " +
        "`awaiting_approval` when a run waits for an approver instead, then `reply` (the JSON answer) or " +
        "`error` (the error body) when the answer fails after it started.",
      body: chatReplySchema,
      events: chatEventSchema,
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
