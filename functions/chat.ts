import { chatRequestSchema } from "../src/http/api_schemas.js";
import { errorResponse, jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { readJsonBody } from "../src/http/request_body.js";
import { requestSignal } from "../src/http/request_signal.js";
import { eventStreamHeaders, serverSentEvents } from "../src/http/server_sent_events.js";
import { assertSessionId } from "../src/memory/session_id.js";

export const chat = defineHttpFunction({
  handler: async (request, { context, services, caller }) => {
    const body = await readJsonBody(request, chatRequestSchema, services.config.http.maxBodyBytes);
    const sessionId = body.sessionId === undefined ? undefined : assertSessionId(body.sessionId);
    const wantsStream = body.stream ?? (request.headers.get("accept") ?? "").includes("text/event-stream");
    // A client that leaves stops the plugin run or the model call made for it, streamed or not.
    const turn = { caller, message: body.message, sessionId, signal: requestSignal(request) };
    if (!wantsStream) return jsonResponse(200, await services.chat.handle(turn));

    const events = services.chat.events(turn, true);
    // Everything up to the first event (validation, storing the message) still fails as plain JSON.
    const first = await events.next();
    if (first.done) throw new Error("the chat answered nothing");
    const logger = services.logger.child({ function: "chat", invocationId: context.invocationId });
    return { status: 200, headers: eventStreamHeaders, body: serverSentEvents(first.value, events, (error) => errorResponse(error, logger)) };
  },
});
