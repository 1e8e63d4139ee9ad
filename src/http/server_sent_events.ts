import type { ApiResponse } from "./api_response.js";

export interface ServerSentEvent {
  readonly type: string;
}

/**
 * A text/event-stream body from an event source whose first event has already been read (so
 * that failures before anything was answered still become an ordinary JSON error). A failure
 * later becomes an `error` event with the standard error body; a client that goes away stops
 * the source.
 */
export function serverSentEvents<E extends ServerSentEvent>(
  first: E,
  rest: AsyncGenerator<E, unknown>,
  errorBody: (error: unknown) => ApiResponse,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const encode = (type: string, data: unknown) => encoder.encode(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const payload = ({ type, ...data }: E) => encode(type, data);
  let pending: E | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pending) {
        controller.enqueue(payload(pending));
        pending = undefined;
        return;
      }
      try {
        const next = await rest.next();
        if (next.done) controller.close();
        else controller.enqueue(payload(next.value));
      } catch (error) {
        controller.enqueue(encode("error", errorBody(error).jsonBody));
        controller.close();
      }
    },
    async cancel() {
      await rest.return(undefined);
    },
  });
}

export const eventStreamHeaders = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  // Proxies such as nginx would otherwise hold the stream back until it ends.
  "x-accel-buffering": "no",
} as const;
