import azureFunctions from "@azure/functions";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError } from "../../../src/errors/app_error.js";
import { runIdField, sessionIdField, sessionIdHeaderField } from "../../../src/http/request_fields.js";
import { parseRequest } from "../../../src/http/request_parts.js";
import type { RequestContract } from "../../../src/http/route_contract.js";

const { HttpRequest } = azureFunctions;

function request(options: { url?: string; params?: Record<string, string>; headers?: Record<string, string>; body?: string } = {}) {
  return new HttpRequest({
    method: options.body === undefined ? "GET" : "POST",
    url: options.url ?? "http://localhost/api/x",
    params: options.params ?? {},
    headers: options.headers ?? {},
    ...(options.body === undefined ? {} : { body: { string: options.body } }),
  });
}

const limit = 1024;

async function refusalOf(contract: RequestContract, options: Parameters<typeof request>[0]): Promise<AppError> {
  try {
    await parseRequest(request(options), contract, { maxBodyBytes: limit });
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected the request to be refused");
}

const body = z.strictObject({
  plugin: z.string().min(1),
  data: z.object({ count: z.number().int() }),
  sessionId: sessionIdField.optional(),
  runId: runIdField.optional(),
});

describe("parseRequest", () => {
  it("gives each declared part as its schema parses it (coerced, defaulted), and the request itself", async () => {
    const contract = {
      params: z.object({ runId: runIdField }),
      query: z.object({ limit: z.coerce.number().int().default(50), cursor: z.string().optional() }),
      headers: z.object({ "x-session-id": sessionIdHeaderField.optional() }),
      body,
    };
    const served = request({
      url: "http://localhost/api/x?limit=5&other=1",
      params: { runId: "r-1" },
      headers: { "x-session-id": "s1" },
      body: '{"plugin":"echo","data":{"count":3}}',
    });
    const parts = await parseRequest(served, contract, { maxBodyBytes: limit });
    expect(parts).toEqual({
      request: served,
      params: { runId: "r-1" },
      query: { limit: 5 },
      headers: { "x-session-id": "s1" },
      body: { plugin: "echo", data: { count: 3 } },
    });
    expect((await parseRequest(request(), { query: contract.query }, { maxBodyBytes: limit })).query).toEqual({ limit: 50 });
  });

  it("reads no part the route does not declare", async () => {
    const unread = request({ body: "not JSON at all" });
    await expect(parseRequest(unread, undefined, { maxBodyBytes: limit })).resolves.toEqual({ request: unread });
    expect(unread.bodyUsed).toBe(false);
  });

  it("refuses a body of the wrong shape with invalid_request and the path of each issue", async () => {
    const error = await refusalOf({ body }, { body: '{"data":{"count":"three"},"extra":true}' });
    expect(error.code).toBe("invalid_request");
    expect(error.message).toBe("request body does not match the expected shape");
    const paths = (error.details as { issues: { path: string }[] }).issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["plugin", "data.count", ""]));
  });

  it("refuses malformed JSON, an empty body and one over the limit", async () => {
    expect((await refusalOf({ body }, { body: '{"plugin":' })).code).toBe("invalid_request");
    expect((await refusalOf({ body }, { body: " " })).code).toBe("invalid_request");
    expect((await refusalOf({ body }, { body: JSON.stringify({ plugin: "x".repeat(limit) }) })).code).toBe("payload_too_large");
  });

  it("refuses a field with a code of its own with that code, naming the field or the header", async () => {
    const session = await refusalOf({ body }, { body: '{"plugin":"echo","data":{"count":1},"sessionId":"no spaces"}' });
    expect([session.code, session.details]).toEqual(["invalid_session_id", { field: "sessionId" }]);
    const runId = await refusalOf({ body }, { body: '{"plugin":"echo","data":{"count":1},"runId":"a/b"}' });
    expect([runId.code, runId.message, runId.details]).toEqual(["invalid_request", "runId must be 1-128 letters, digits, '_' or '-'", { field: "runId" }]);
    const header = await refusalOf({ headers: z.object({ "x-session-id": sessionIdHeaderField.optional() }) }, { headers: { "x-session-id": "../etc" } });
    expect([header.code, header.details]).toEqual(["invalid_session_id", { header: "x-session-id" }]);
    expect(header.message).toMatch(/^the x-session-id header must be/);
  });

  it("refuses a path or query parameter of the wrong shape with invalid_request naming it", async () => {
    const query = await refusalOf({ query: z.object({ limit: z.coerce.number().int().min(1) }) }, { url: "http://localhost/api/x?limit=0" });
    expect(query.code).toBe("invalid_request");
    expect(query.message).toMatch(/^query parameter limit: /);
    const param = await refusalOf({ params: z.object({ name: z.string().max(3) }) }, { params: { name: "toolong" } });
    expect(param.message).toMatch(/^path parameter name: /);
  });

  it("hands the body's text to the route's own parser instead, when it has one", async () => {
    const parsed = await parseRequest(request({ body: "a,b" }), { body: z.array(z.string()) }, { maxBodyBytes: limit, parseBody: (text) => text.split(",") });
    expect(parsed.body).toEqual(["a", "b"]);
  });
});
