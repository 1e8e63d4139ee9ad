/** One server-sent event: its `event` name (`message` when none was given) and its `data` lines joined. */
export interface ServerSentEvent {
  readonly event: string;
  readonly data: string;
}

/**
 * Parses a text/event-stream body as it arrives (the HTML standard's rules: `event:` and
 * `data:` fields, lines ending in LF, CRLF or CR, a blank line dispatching the event, comments
 * and other fields ignored, an event the stream ends in the middle of dropped). fetch is used
 * rather than EventSource, which can neither POST nor send an Authorization header.
 */
export async function* readServerSentEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "";
  let data: string[] = [];

  /** The complete lines of the buffer; a CR at its very end waits for a possible LF unless the stream has ended. */
  function* lines(ended: boolean): Generator<string> {
    const lineEnd = /\r\n|\r|\n/g;
    let consumed = 0;
    for (let found = lineEnd.exec(buffer); found !== null; found = lineEnd.exec(buffer)) {
      if (found[0] === "\r" && found.index === buffer.length - 1 && !ended) break;
      yield buffer.slice(consumed, found.index);
      consumed = found.index + found[0].length;
    }
    buffer = buffer.slice(consumed);
  }

  function* dispatch(ended: boolean): Generator<ServerSentEvent> {
    for (const line of lines(ended)) {
      if (line === "") {
        if (data.length > 0) yield { event: event || "message", data: data.join("\n") };
        event = "";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
    }
  }

  let ended = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) {
        ended = true;
        buffer += decoder.decode();
        yield* dispatch(true);
        return;
      }
      buffer += decoder.decode(value, { stream: true });
      yield* dispatch(false);
    }
  } finally {
    // A reader that stops early (an `error` event) closes the connection rather than leave it open.
    if (ended) reader.releaseLock();
    else await reader.cancel().catch(() => {});
  }
}
