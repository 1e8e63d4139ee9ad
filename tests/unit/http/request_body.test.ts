import { describe, it, expect } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { readBodyText, readJson, setBufferedBody, type RequestWithBody } from "../../../src/http/request_body.js";

function request(body: string, headers: Record<string, string> = {}): RequestWithBody & { reads: number } {
  const double = {
    headers: new Headers(headers),
    reads: 0,
    text: async () => {
      double.reads++;
      return body;
    },
  };
  return double;
}

/** A request whose body must not be read. */
function unreadable(headers: Record<string, string>): RequestWithBody {
  return {
    headers: new Headers(headers),
    text: async () => {
      throw new Error("text() must not be called");
    },
  };
}

async function appErrorOf(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected an AppError, but the promise resolved");
}

const limit = 1024;

describe("reading a body within the limit", () => {
  it("rejects a declared content-length over the limit without reading the body", async () => {
    const error = await appErrorOf(readJson(unreadable({ "content-length": String(limit + 1) }), limit));
    expect(error.code).toBe("payload_too_large");
    expect(error.details).toEqual({ maxBytes: limit });
  });

  it("rejects a body over the limit in UTF-8 bytes when no content-length is declared", async () => {
    const body = "é".repeat(6); // 6 characters, 12 bytes
    const req = request(body);
    const error = await appErrorOf(readBodyText(req, 10));
    expect(error.code).toBe("payload_too_large");
    expect(req.reads).toBe(1);
  });

  it("rejects a body larger than a (lying) declared content-length allows", async () => {
    const error = await appErrorOf(readBodyText(request("x".repeat(20), { "content-length": "5" }), 10));
    expect(error.code).toBe("payload_too_large");
  });
});

describe("readJson", () => {
  it("parses the body's JSON, whatever its shape (the route checks that)", async () => {
    await expect(readJson(request('{"plugin":"echo","data":[1,2]}'), limit)).resolves.toEqual({ plugin: "echo", data: [1, 2] });
    await expect(readJson(request("[1,2]"), limit)).resolves.toEqual([1, 2]);
  });

  it("rejects malformed JSON as invalid_request", async () => {
    const error = await appErrorOf(readJson(request('{"plugin": "echo",'), limit));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toMatch(/JSON/);
  });

  it.each(["", "   ", "\n\t  \r\n"])("rejects an empty or whitespace body %j as invalid_request", async (body) => {
    const error = await appErrorOf(readJson(request(body), limit));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toMatch(/empty/);
  });
});

describe("readBodyText", () => {
  it("accepts a body of exactly the limit in bytes", async () => {
    await expect(readBodyText(request("é".repeat(5)), 10)).resolves.toBe("é".repeat(5));
    await expect(readBodyText(request("x".repeat(10), { "content-length": "10" }), 10)).resolves.toBe("x".repeat(10));
  });

  it("ignores a content-length that is not a number and checks the body itself", async () => {
    await expect(readBodyText(request("abc", { "content-length": "many" }), 10)).resolves.toBe("abc");
  });
});

describe("a body the local host has read already", () => {
  // A byte order mark, "é", an invalid byte and a lone continuation byte.
  const bytes = new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x22, 0xc3, 0xa9, 0x22, 0xff, 0x80, 0x7d]);

  it("is decoded as Request.text() decodes it, without reading the request's stream", async () => {
    const fetchRequest = new Request("http://localhost/", { method: "POST", body: bytes });
    const expected = await fetchRequest.text();
    const served = unreadable({});
    setBufferedBody(served, bytes);
    await expect(readBodyText(served, limit)).resolves.toBe(expected);
  });

  it("is held to the same limit", async () => {
    const served = unreadable({});
    setBufferedBody(served, new Uint8Array(limit + 1));
    expect((await appErrorOf(readBodyText(served, limit))).code).toBe("payload_too_large");
  });
});
