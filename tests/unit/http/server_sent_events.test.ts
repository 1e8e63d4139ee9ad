import { describe, expect, it } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { errorResponse } from "../../../src/http/api_response.js";
import { dataOnlyEvents, serverSentEvents } from "../../../src/http/server_sent_events.js";
import { silentLogger } from "../../../src/logging/logger.js";

async function* source<E>(...items: (E | Error)[]): AsyncGenerator<E, void> {
  for (const item of items) {
    if (item instanceof Error) throw item;
    yield item;
  }
}

const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
const errorBody = (error: unknown) => errorResponse(error, silentLogger);

describe("server-sent events", () => {
  it("names this API's events by type, and ends a failed stream with an error event", async () => {
    const stream = serverSentEvents(
      { type: "session", sessionId: "s1" },
      source<{ type: string; sessionId?: string }>(new AppError("llm_unavailable", "gone")),
      errorBody,
    );
    expect(await text(stream)).toBe(
      'event: session\ndata: {"sessionId":"s1"}\n\n' + 'event: error\ndata: {"status":"error","error":{"code":"llm_unavailable","message":"gone"}}\n\n',
    );
  });

  it("writes OpenAI's unnamed data events and ends with data: [DONE]", async () => {
    expect(await text(dataOnlyEvents({ n: 1 }, source({ n: 2 }), errorBody))).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: [DONE]\n\n');
  });

  it("ends an OpenAI stream that fails with the error's data, and no [DONE]", async () => {
    const stream = dataOnlyEvents({ n: 1 }, source<{ n: number }>(new AppError("llm_unavailable", "gone")), (error) => ({
      status: 503,
      jsonBody: { error: { message: (error as Error).message } },
    }));
    expect(await text(stream)).toBe('data: {"n":1}\n\ndata: {"error":{"message":"gone"}}\n\n');
  });

  it("stops the source when the client goes away", async () => {
    let stopped = false;
    async function* endless(): AsyncGenerator<{ n: number }, void> {
      try {
        for (let n = 2; ; n++) yield { n };
      } finally {
        stopped = true;
      }
    }
    const reader = dataOnlyEvents({ n: 1 }, endless(), errorBody).getReader();
    await reader.read();
    await reader.read();
    await reader.cancel();
    expect(stopped).toBe(true);
  });
});
