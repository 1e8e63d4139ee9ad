import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import azureFunctions, { type HttpResponseInit } from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { writeResponse } from "../../../src/host/response_writer.js";

const { HttpResponse } = azureFunctions;
let server: Server | undefined;

afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function served(result: HttpResponseInit | InstanceType<typeof HttpResponse>, extraHeaders?: Record<string, string>) {
  server = createServer((_req, res) => void writeResponse(res, result, extraHeaders));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
  const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  return { status: response.status, headers: response.headers, text: await response.text() };
}

describe("writeResponse", () => {
  it("writes a JSON body with its status and headers, as application/json by default", async () => {
    const result = await served({ status: 201, jsonBody: { a: [1, "é"] }, headers: { "x-run": "7" } });
    expect(result).toMatchObject({ status: 201, text: '{"a":[1,"é"]}' });
    expect(result.headers.get("content-type")).toBe("application/json");
    expect(result.headers.get("x-run")).toBe("7");
  });

  it("keeps a content type the handler chose, and headers given as Headers or pairs", async () => {
    const fromHeaders = await served({ jsonBody: 1, headers: new Headers({ "Content-Type": "application/problem+json" }) });
    expect(fromHeaders.status).toBe(200);
    expect(fromHeaders.headers.get("content-type")).toBe("application/problem+json");
    const fromPairs = await served({ jsonBody: 1, headers: [["x-a", "b"]] as unknown as Record<string, string> });
    expect(fromPairs.headers.get("x-a")).toBe("b");
  });

  it("hands a text body, cookies, a bodiless status and an HttpResponse to HttpResponse's own rules", async () => {
    expect(await served({ status: 200, body: "plain" })).toMatchObject({ text: "plain" });
    const withCookie = await served({ jsonBody: { ok: true }, cookies: [{ name: "c", value: "v w", httpOnly: true, sameSite: "Lax", path: "/" }] });
    expect(withCookie.headers.get("set-cookie")).toBe("c=v%20w; Path=/; HttpOnly; SameSite=Lax");
    expect(withCookie.text).toBe('{"ok":true}');
    expect(await served({ status: 204, jsonBody: { ignored: true } })).toMatchObject({ status: 204, text: "" });
    expect(await served(new HttpResponse({ status: 202, jsonBody: { queued: true } }))).toMatchObject({ status: 202, text: '{"queued":true}' });
  });

  it("sets the host's own headers over the handler's, adding to its Vary, on JSON and streamed answers alike", async () => {
    const cors = { "access-control-allow-origin": "https://chat.example.com", vary: "origin" };
    const json = await served({ jsonBody: 1, headers: { vary: "accept", "access-control-allow-origin": "*" } }, cors);
    expect(json.headers.get("access-control-allow-origin")).toBe("https://chat.example.com");
    expect(json.headers.get("vary")).toBe("accept, origin");
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
        controller.close();
      },
    });
    const streamed = await served({ status: 200, headers: { "content-type": "text/event-stream" }, body: stream }, cors);
    expect(streamed).toMatchObject({ status: 200, text: "data: 1\n\n" });
    expect(streamed.headers.get("access-control-allow-origin")).toBe("https://chat.example.com");
    expect(streamed.headers.get("vary")).toBe("origin");
  });
});
