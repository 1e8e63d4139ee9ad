import type { ApiResponse } from "./api_response.js";

export interface ServerSentEvent {
  readonly type: string;
}

/** How the events of a stream are written: each event's text, a failure's, and what ends a stream that did not fail. */
export interface EventStreamFormat<E> {
  /** One event as its lines, ending with the blank line that closes it. */
  readonly event: (event: E) => string;
  /** The last event of a stream whose source failed after it started. */
  readonly failure: (error: unknown) => string;
  /** Written once the source is done, unless it failed (OpenAI's `data: [DONE]`). */
  readonly end?: string;
}

/**
 * A text/event-stream body from an event source whose first event has already been read (so
 * that failures before anything was answered still become an ordinary JSON error). A failure
 * later becomes the format's failure event; a client that goes away stops the source.
 */
export function eventStream<E>(first: E, rest: AsyncGenerator<E, unknown>, format: EventStreamFormat<E>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let pending: { event: E } | undefined = { event: first };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(encoder.encode(format.event(pending.event)));
        pending = undefined;
        return;
      }
      try {
        const next = await rest.next();
        if (!next.done) {
          controller.enqueue(encoder.encode(format.event(next.value)));
          return;
        }
        if (format.end !== undefined) controller.enqueue(encoder.encode(format.end));
        controller.close();
      } catch (error) {
        controller.enqueue(encoder.encode(format.failure(error)));
        controller.close();
      }
    },
    async cancel() {
      await rest.return(undefined);
    },
  });
}

/** This API's own events, `event: <type>` and `data: <the rest as JSON>`; a failure is an `error` event with the standard error body. */
export function serverSentEvents<E extends ServerSentEvent>(
  first: E,
  rest: AsyncGenerator<E, unknown>,
  errorBody: (error: unknown) => ApiResponse,
): ReadableStream<Uint8Array> {
  const named = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  return eventStream(first, rest, {
    event: ({ type, ...data }) => named(type, data),
    failure: (error) => named("error", errorBody(error).jsonBody),
  });
}

/** Unnamed events, `data: <JSON>`, as OpenAI streams: a failure is `data: {"error":…}`, and a stream that did not fail ends with `data: [DONE]`. */
export function dataOnlyEvents<E>(first: E, rest: AsyncGenerator<E, unknown>, errorBody: (error: unknown) => ApiResponse): ReadableStream<Uint8Array> {
  const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
  return eventStream(first, rest, { event: data, failure: (error) => data(errorBody(error).jsonBody), end: "data: [DONE]\n\n" });
}

/** A 200 whose body is a stream of events. */
export function eventStreamResponse(body: ReadableStream<Uint8Array>) {
  return { status: 200, headers: eventStreamHeaders, body } as const;
}

const eventStreamHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Proxies such as nginx would otherwise hold the stream back until it ends.
  "x-accel-buffering": "no",
} as const;
