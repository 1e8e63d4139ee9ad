import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The local host's guards over real sockets: a page on another origin, a DNS-rebound Host name,
 * and clients that stall their request. node:http and node:net, since fetch sets Host and Origin itself.
 */

const allowedOrigin = "https://chat.example.com";
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  services = integrationServices({
    config: integrationConfig({ REQUEST_TIMEOUT_MS: "1000", CORS_ALLOWED_ORIGINS: allowedOrigin, ALLOWED_HOSTS: "api.example.test", MAX_BODY_BYTES: "65536" }),
  });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host.close();
  await services.close();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
}

function send(method: string, path: string, options: { headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port: host.port, method, path, headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        try {
          body = text === "" ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(options.body);
  });
}

function chat(message: string, sessionId: string, headers: Record<string, string> = {}): Promise<Answer> {
  // text/plain: what a page on another site can send without a preflight.
  return send("POST", "/api/chat", { headers: { "content-type": "text/plain", ...headers }, body: JSON.stringify({ message, sessionId }) });
}

async function auditOf(sessionId: string): Promise<unknown[]> {
  const audit = await send("GET", `/api/memory/audit/${sessionId}`);
  expect(audit.status).toBe(200);
  return audit.body.entries;
}

function expectError(answer: Answer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.body).toMatchObject({ status: "error", error: { code, message: expect.any(String) } });
}

const sessionId = (label: string) => `${label}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;

describe("Origin", () => {
  it("refuses a page on another origin with 403 origin_not_allowed, and runs nothing", async () => {
    const session = sessionId("evil");
    const answer = await chat("/run memory note x", session, { origin: "http://evil.example" });
    expectError(answer, 403, "origin_not_allowed");
    expect(answer.body.error.message).toContain("CORS_ALLOWED_ORIGINS");
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    // Neither the message nor the plugin's run reached the session.
    expect(await auditOf(session)).toEqual([]);
  });

  it("refuses a foreign origin before routing, on unknown routes and with Origin: null too", async () => {
    expectError(await send("GET", "/api/nothing-here", { headers: { origin: "http://evil.example" } }), 403, "origin_not_allowed");
    expectError(await send("GET", "/api/plugins", { headers: { origin: "null" } }), 403, "origin_not_allowed");
  });

  it("serves the same request without Origin (curl, SDKs), and the plugin runs", async () => {
    const session = sessionId("curl");
    const answer = await chat("/run memory note x", session);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ sessionId: session, source: "plugin", plugin: "memory" });
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    expect((await auditOf(session)).length).toBeGreaterThan(0);
  });

  it("serves a page of the app's own origin without CORS headers", async () => {
    const answer = await chat("/run echo same", sessionId("same"), { origin: `http://127.0.0.1:${host.port}` });
    expect(answer.status).toBe(200);
    expect(answer.body.reply).toBe("same");
    expect(answer.headers["access-control-allow-origin"]).toBeUndefined();
    const viaLocalhost = await chat("/run echo same", sessionId("same"), { origin: `http://localhost:${host.port}`, host: `localhost:${host.port}` });
    expect(viaLocalhost.status).toBe(200);
  });

  it("serves an origin listed in CORS_ALLOWED_ORIGINS with Access-Control-Allow-Origin, errors included", async () => {
    const answer = await chat("/run echo listed", sessionId("cors"), { origin: allowedOrigin });
    expect(answer.status).toBe(200);
    expect(answer.body.reply).toBe("listed");
    expect(answer.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    expect(answer.headers.vary).toMatch(/origin/i);
    const notFound = await send("GET", "/api/nothing-here", { headers: { origin: allowedOrigin } });
    expectError(notFound, 404, "not_found");
    expect(notFound.headers["access-control-allow-origin"]).toBe(allowedOrigin);
  });

  it("puts the CORS headers on a streamed (server-sent events) answer too", async () => {
    const answer = await send("POST", "/api/chat", {
      headers: { origin: allowedOrigin, "content-type": "application/json" },
      body: JSON.stringify({ message: "/run echo streamed", stream: true }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(answer.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    expect(answer.text).toContain("event: reply");
  });

  it("answers the preflight of an allowed origin with 204 and the CORS headers", async () => {
    const answer = await send("OPTIONS", "/api/chat", {
      headers: { origin: allowedOrigin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(answer.status).toBe(204);
    expect(answer.text).toBe("");
    expect(answer.headers["access-control-allow-origin"]).toBe(allowedOrigin);
    expect(answer.headers["access-control-allow-methods"]).toBe("POST, OPTIONS");
    const allowedHeaders = String(answer.headers["access-control-allow-headers"]).split(/,\s*/);
    expect(allowedHeaders).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    expect(answer.headers["access-control-max-age"]).toBe("600");
  });

  it("refuses the preflight of a foreign origin with 403, and answers an OPTIONS without Origin with Allow", async () => {
    const foreign = await send("OPTIONS", "/api/chat", { headers: { origin: "http://evil.example", "access-control-request-method": "POST" } });
    expectError(foreign, 403, "origin_not_allowed");
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined();
    const plain = await send("OPTIONS", "/api/plugins");
    expect(plain.status).toBe(204);
    expect(plain.headers.allow).toBe("GET, OPTIONS");
    expectError(await send("OPTIONS", "/api/nothing-here", { headers: { origin: allowedOrigin } }), 404, "not_found");
  });
});

describe("Host", () => {
  it("refuses a Host that is not loopback, HOST or in ALLOWED_HOSTS with 403 host_not_allowed (DNS rebinding)", async () => {
    const session = sessionId("rebound");
    // The rebound page is "same-origin" with its own name: only the Host check stops it.
    const answer = await chat("/run memory note x", session, { host: `evil.example:${host.port}`, origin: `http://evil.example:${host.port}` });
    expectError(answer, 403, "host_not_allowed");
    expect(answer.body.error.message).toContain("ALLOWED_HOSTS");
    expect(await auditOf(session)).toEqual([]);
    expectError(await send("GET", "/api/health", { headers: { host: "evil.example" } }), 403, "host_not_allowed");
    expectError(await send("GET", "/api/nothing-here", { headers: { host: "evil.example" } }), 403, "host_not_allowed");
  });

  it("answers loopback names and the names in ALLOWED_HOSTS", async () => {
    for (const name of [`localhost:${host.port}`, `127.0.0.1:${host.port}`, `[::1]:${host.port}`, `api.example.test:${host.port}`, "API.example.test"]) {
      const answer = await send("GET", "/api/plugins", { headers: { host: name } });
      expect(answer.status, name).toBe(200);
    }
  });

  /** One request written as it is (fetch and node:http send exactly one Host), answered and closed. */
  async function rawRequest(lines: string[], content = ""): Promise<{ status: number; body: any }> {
    const result = await rawExchange((socket) => socket.write(`${[...lines, "Connection: close"].join("\r\n")}\r\n\r\n${content}`));
    const [head = "", body = ""] = result.text.split("\r\n\r\n");
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]), body: json };
  }

  it("refuses two Host headers with 400 invalid_host_header (RFC 9112 §3.2), whichever comes first, and runs nothing", async () => {
    const session = sessionId("two-hosts");
    const body = JSON.stringify({ message: "/run memory note x", sessionId: session });
    for (const hosts of [
      [`127.0.0.1:${host.port}`, "evil.example"],
      ["evil.example", `127.0.0.1:${host.port}`],
      [`127.0.0.1:${host.port}`, `127.0.0.1:${host.port}`],
    ]) {
      const answer = await rawRequest(
        ["POST /api/chat HTTP/1.1", ...hosts.map((name) => `Host: ${name}`), "Content-Type: application/json", `Content-Length: ${Buffer.byteLength(body)}`],
        body,
      );
      expect(answer.status, hosts.join(" + ")).toBe(400);
      expect(answer.body).toMatchObject({ status: "error", error: { code: "invalid_host_header", message: expect.stringContaining("Host") } });
    }
    expect(await auditOf(session)).toEqual([]);
    // One Host, the same request: served.
    const one = await rawRequest(["GET /api/plugins HTTP/1.1", `Host: 127.0.0.1:${host.port}`]);
    expect(one.status).toBe(200);
  });

  it("refuses an HTTP/1.1 request without Host, or with an empty or malformed one, with 400 invalid_host_header in the error body", async () => {
    for (const lines of [["GET /api/plugins HTTP/1.1"], ["GET /api/plugins HTTP/1.1", "Host: "], ["GET /api/plugins HTTP/1.1", "Host: local host"]]) {
      const answer = await rawRequest(lines);
      expect(answer.status, lines.join(" | ")).toBe(400);
      expect(answer.body, lines.join(" | ")).toMatchObject({ status: "error", error: { code: "invalid_host_header" } });
    }
    // HTTP/1.0 may go without Host.
    expect((await rawRequest(["GET /api/plugins HTTP/1.0"])).status).toBe(200);
  });
});

/** A raw connection: what the client reads until the host closes it, and when; with readAfterMs, it reads nothing before then. */
function rawExchange(
  write: (socket: import("node:net").Socket) => void,
  options: { budgetMs?: number; readAfterMs?: number } = {},
): Promise<{ text: string; closedAfterMs: number; ended: boolean }> {
  const budgetMs = options.budgetMs ?? 8000;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(host.port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let ended = false;
    const giveUp = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the host did not close the connection within ${budgetMs} ms; read so far: ${Buffer.concat(chunks).toString()}`));
    }, budgetMs);
    socket.on("connect", () => {
      if (options.readAfterMs !== undefined) {
        socket.pause();
        setTimeout(() => socket.resume(), options.readAfterMs);
      }
      write(socket);
    });
    socket.on("data", (chunk: Buffer) => chunks.push(chunk));
    socket.on("end", () => {
      ended = true;
      socket.end();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(giveUp);
      resolve({ text: Buffer.concat(chunks).toString("utf8"), closedAfterMs: Date.now() - started, ended });
    });
  });
}

describe("slow clients", () => {
  it("cuts a stalled upload with 408 request_timeout after REQUEST_TIMEOUT_MS, and closes the connection", async () => {
    const result = await rawExchange((socket) => {
      socket.write(`POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"message"`);
    });
    const [head, body] = result.text.split("\r\n\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 408 /);
    expect(head).toMatch(/\r\nconnection: close\r\n/i);
    expect(JSON.parse(body!)).toMatchObject({ status: "error", error: { code: "request_timeout", message: expect.stringContaining("REQUEST_TIMEOUT_MS") } });
    // Closed by the host (FIN after the answer), about REQUEST_TIMEOUT_MS after the request.
    expect(result.ended).toBe(true);
    expect(result.closedAfterMs).toBeGreaterThanOrEqual(900);
    expect(result.closedAfterMs).toBeLessThan(4000);
  });

  it("cuts stalled headers too (Node answers 408 itself)", async () => {
    const result = await rawExchange((socket) => socket.write("POST /api/chat HTT"));
    expect(result.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(result.closedAfterMs).toBeLessThan(4000);
  });

  it("keeps serving after cutting slow clients", async () => {
    const answer = await chat("/run echo still here", sessionId("after"));
    expect(answer.body.reply).toBe("still here");
  });
});

describe("answers that close the connection", () => {
  it("lets a client that keeps uploading past the limit, and reads only later, read its 413", async () => {
    const result = await rawExchange(
      (socket) => {
        socket.write(`POST /api/chat HTTP/1.1\r\nHost: 127.0.0.1:${host.port}\r\nContent-Type: application/json\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n`);
        // Goes on sending after the answer, as clients that do not read while uploading do.
        const chunk = Buffer.alloc(64 * 1024, 120);
        let sent = 0;
        const pump = () => {
          while (sent < 4 * 1024 * 1024 && !socket.destroyed) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once("drain", pump);
          }
        };
        pump();
      },
      { readAfterMs: 300 },
    );
    expect(result.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(result.text).toContain('"code":"payload_too_large"');
  });
});
