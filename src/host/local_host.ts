import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import azureFunctions from "@azure/functions";
import { AppError } from "../errors/app_error.js";
import { errorResponse, type ApiResponse, type ErrorFormat } from "../http/api_response.js";
import type { HttpFunction } from "../http/http_function.js";
import { setBufferedBody } from "../http/request_body.js";
import { setRequestSignal } from "../http/request_signal.js";
import { checkOrigin, preflightHeaders } from "../http/origin_policy.js";
import type { Services } from "../services.js";
import { assertHostAllowed } from "./host_header_policy.js";
import { readBody, toHttpRequest } from "./http_request_adapter.js";
import { writeResponse } from "./response_writer.js";
import { RouteTable, type RouteLookup } from "./route_table.js";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { InvocationContext } = azureFunctions;

/** Node's own cut of a request (408, or the connection closed) comes this long after REQUEST_TIMEOUT_MS. */
const requestTimeoutBackstopMs = 1000;
const connectionsCheckingIntervalMs = 1000;
/** After an answer that closes the connection: how long, and how much, the client may still send before the socket is closed. */
const lingerMs = 2000;
const lingerMaxBytes = 8 * 1024 * 1024;
/**
 * While draining, a keep-alive connection with nothing in flight is closed once it has been idle
 * this long. Closing it at once would race a request the client may just be sending on it (the
 * request would be lost to a reset); a client that goes on using the connection is answered
 * `Connection: close` instead, which ends it without that race.
 */
const drainIdleMs = 250;

export interface LocalHostOptions {
  readonly functions: readonly HttpFunction[];
  readonly services: Services;
  readonly port: number;
  readonly hostname?: string;
}

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  /**
   * Stops gracefully: no new connections; every request from now on is answered with `Connection:
   * close`; requests in flight may finish within `graceMs` (default SHUTDOWN_GRACE_MS), then
   * whatever is still open is destroyed. Resolves with the number of requests that had to be cut.
   */
  close(options?: { readonly graceMs?: number }): Promise<CloseReport>;
}

interface CloseReport {
  /** Requests that had been received and were still unanswered when the grace period ran out. */
  readonly cut: number;
}

/** A connection's requests in flight (received, response not yet finished) and its idle timer while draining. */
interface ConnectionState {
  readonly responses: Set<ServerResponse>;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * Serves the app's HTTP functions without Azure Functions Core Tools: each node:http request is
 * turned into an @azure/functions HttpRequest and handed to the same handler the Functions host
 * would call, under the same `api` route prefix.
 */
export async function startLocalHost(options: LocalHostOptions): Promise<LocalHost> {
  const { services } = options;
  const routes = new RouteTable(options.functions);
  const logger = services.logger.child({ component: "local-host" });
  const { maxBodyBytes, requestTimeoutMs, corsAllowedOrigins, allowedHosts } = services.config.http;
  const hostPolicy = { host: services.config.host, allowedHosts };
  const originPolicy = { corsAllowedOrigins };
  /** Connections answered with `Connection: close` and being closed: nothing more is served on them. */
  const closing = new WeakSet<Socket>();
  const connections = new Map<Socket, ConnectionState>();
  /** Set once close() has begun: every response from then on closes its connection. */
  let draining = false;
  /** Called whenever a connection closes or a request finishes while draining. */
  let onDrainProgress: (() => void) | undefined;

  const server: Server = createServer(
    {
      // Slow clients cannot hold the host: headers must be in within REQUEST_TIMEOUT_MS (Node answers 408
      // itself), a body within REQUEST_TIMEOUT_MS of its headers (readBody: 408 request_timeout below).
      // Node's own limit on the whole request comes a moment later, as a backstop for bodies nobody reads.
      headersTimeout: requestTimeoutMs,
      requestTimeout: requestTimeoutMs + requestTimeoutBackstopMs,
      // How often Node looks for requests past those limits (its default, 30 s, would let them run on).
      connectionsCheckingInterval: connectionsCheckingIntervalMs,
      // A missing Host is refused below, with every other Host problem, in the app's error body rather than Node's bare 400.
      requireHostHeader: false,
    },
    (req, res) => {
      const departure = track(req, res);
      handle(req, res, departure).catch((error: unknown) => {
        // Only reached when writing the response itself failed; the connection is all that is left to close.
        logger.error("response could not be written", { error: String(error) });
        res.destroy();
      });
    },
  );

  server.on("connection", (socket: Socket) => {
    const state: ConnectionState = { responses: new Set(), idleTimer: undefined };
    connections.set(socket, state);
    socket.once("close", () => {
      clearTimeout(state.idleTimer);
      connections.delete(socket);
      onDrainProgress?.();
    });
    // Accepted just before the listener closed: closed like any idle connection.
    if (draining) closeWhenIdle(socket, state);
  });

  /**
   * Counts the request as in flight until its response has finished or its connection is gone, and
   * returns the abort signal of its client's departure: it goes off when the connection closes before the response has
   * been written in full (the client went away, or the grace period of a shutdown cut the request),
   * and nobody is left to read what the work would produce. One listener on the response does both.
   */
  function track(req: IncomingMessage, res: ServerResponse): AbortSignal {
    const socket = req.socket;
    const state = connections.get(socket);
    const departure = new AbortController();
    if (state) {
      state.responses.add(res);
      clearTimeout(state.idleTimer);
      state.idleTimer = undefined;
      if (draining) closeAfterResponse(res);
    }
    // `on`, not `once`: a response closes once, and once's wrapper would be one more object per request.
    res.on("close", () => {
      if (state) {
        state.responses.delete(res);
        if (draining) {
          closeWhenIdle(socket, state);
          onDrainProgress?.();
        }
      }
      if (!res.writableFinished) departure.abort(new Error("the client closed the connection before the answer was written"));
    });
    return departure.signal;
  }

  /** The response tells the client that the connection ends with it, and Node ends it after the response. */
  function closeAfterResponse(res: ServerResponse): void {
    if (res.headersSent) return;
    res.shouldKeepAlive = false;
    res.setHeader("connection", "close");
  }

  function closeWhenIdle(socket: Socket, state: ConnectionState): void {
    if (state.responses.size > 0 || state.idleTimer !== undefined || socket.destroyed) return;
    state.idleTimer = setTimeout(() => {
      state.idleTimer = undefined;
      if (state.responses.size === 0) socket.destroy();
    }, drainIdleMs);
  }

  function inFlight(): number {
    let count = 0;
    for (const state of connections.values()) count += state.responses.size;
    return count;
  }

  /**
   * Stops taking connections, lets the open ones finish what they are doing, and closes each once
   * it has nothing in flight; past `graceMs`, destroys what is left and reports how many requests
   * that cut.
   */
  function close(graceMs: number): Promise<CloseReport> {
    draining = true;
    // Not server.close(): in Node 20 it also destroys idle keep-alive connections at once, racing
    // requests that clients may be sending on them. The listener alone is closed here.
    const listenerClosed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
    for (const [socket, state] of connections) {
      // Requests already in flight whose answer has not started answer with `Connection: close` too.
      for (const res of state.responses) closeAfterResponse(res);
      closeWhenIdle(socket, state);
    }
    return new Promise<CloseReport>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let finished = false;
      const finish = (cut: number) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        onDrainProgress = undefined;
        for (const socket of connections.keys()) socket.destroy();
        void listenerClosed.then(() => resolve({ cut }));
      };
      onDrainProgress = () => {
        if (connections.size === 0) finish(0);
      };
      timer = setTimeout(() => finish(inFlight()), graceMs);
      onDrainProgress();
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, clientGone: AbortSignal): Promise<void> {
    if (closing.has(req.socket)) {
      // Pipelined behind an answer that closes the connection: not served (the client was told Connection: close).
      drain(req);
      return;
    }
    const method = (req.method ?? "GET").toUpperCase();
    let cors: Readonly<Record<string, string>> | undefined;
    try {
      // Before anything else, for every route (unknown ones too): a DNS-rebound name, then a page of another origin.
      assertHostAllowed(req.headersDistinct.host, req.httpVersion, hostPolicy);
      const origin = checkOrigin(req.headers.origin, req.headers.host, originPolicy);
      if (origin.kind === "allowed") cors = origin.headers;
    } catch (error) {
      return refuse(req, res, errorRendererOf(method, req.url)(error, logger));
    }
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    if (method === "OPTIONS") return preflight(req, res, url);
    const found: RouteLookup = routes.lookup(method, url.pathname);
    if (found.kind === "not_found") {
      drain(req);
      return writeResponse(res, errorResponse(new AppError("not_found", `no route for ${method} ${url.pathname}`), logger), cors);
    }
    if (found.kind === "method_not_allowed") {
      drain(req);
      const response = errorResponse(new AppError("method_not_allowed", `${method} is not allowed on ${url.pathname}`), logger);
      return writeResponse(res, { ...response, headers: { allow: found.allowed.join(", ") } }, cors);
    }
    const { match } = found;
    const renderError = match.fn.errorFormat.respond;
    const body = await readBody(req, maxBodyBytes, requestTimeoutMs);
    if (body === "too_large") {
      const tooLarge = new AppError("payload_too_large", `request body is larger than ${maxBodyBytes} bytes`, { details: { maxBytes: maxBodyBytes } });
      // The rest of the upload is not read: the connection is closed once the answer is out.
      return answerAndClose(req, res, renderError(tooLarge, logger), cors);
    }
    if (body === "timed_out") {
      const timedOut = new AppError("request_timeout", `the request body did not arrive within ${requestTimeoutMs} ms (REQUEST_TIMEOUT_MS)`, {
        details: { timeoutMs: requestTimeoutMs },
      });
      return answerAndClose(req, res, renderError(timedOut, logger), cors);
    }
    const { fn, params } = match;
    const request = toHttpRequest(req, { method, url, params, body });
    setRequestSignal(request, clientGone);
    setBufferedBody(request, body);
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: (level, ...args) => logger.debug(args.map(String).join(" "), { function: fn.name, invocationId, level }),
    });
    await writeResponse(res, await fn.handler(request, context, services), cors);
  }

  /** How the route a request is for answers errors (OpenAI's shape on the `/v1` routes); the standard body for any other request. */
  function errorRendererOf(method: string, target: string | undefined): ErrorFormat["respond"] {
    let pathname: string;
    try {
      pathname = new URL(target ?? "/", "http://localhost").pathname;
    } catch {
      return errorResponse;
    }
    const found = routes.lookup(method, pathname);
    return found.kind === "match" ? found.match.fn.errorFormat.respond : errorResponse;
  }

  /** A CORS preflight; the origin has passed already. Without an Origin it is a plain OPTIONS: what the route allows. */
  function preflight(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    drain(req);
    const origin = req.headers.origin;
    const found = routes.lookup("OPTIONS", url.pathname);
    if (found.kind === "not_found") {
      return writeResponse(res, errorResponse(new AppError("not_found", `no route for OPTIONS ${url.pathname}`), logger));
    }
    const methods = found.kind === "match" ? found.match.fn.methods : found.allowed;
    const headers =
      origin === undefined
        ? { allow: [...new Set([...methods, "OPTIONS"])].join(", ") }
        : preflightHeaders(new URL(origin).origin, methods, req.headers["access-control-request-headers"]);
    return writeResponse(res, { status: 204, headers });
  }

  /** A refusal before the request was looked at: a request with a body is not read, its connection is closed instead. */
  function refuse(req: IncomingMessage, res: ServerResponse, response: ApiResponse): Promise<void> {
    if (hasBody(req)) return answerAndClose(req, res, response);
    drain(req);
    return writeResponse(res, response);
  }

  /**
   * Answers with `Connection: close`, then closes the connection so that the answer still reaches
   * the client: once the answer is flushed the host half-closes (FIN) and goes on reading and
   * discarding what the client still sends, up to a bound, before closing. Closing at once with
   * unread data would make the kernel reset the connection, and a reset can discard the answer
   * before the client has read it.
   */
  function answerAndClose(req: IncomingMessage, res: ServerResponse, response: ApiResponse, cors?: Readonly<Record<string, string>>): Promise<void> {
    const socket = req.socket;
    closing.add(socket);
    let discarded = 0;
    const close = () => socket.destroy();
    req.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > lingerMaxBytes) close();
    });
    req.on("error", close);
    // Node ends a `Connection: close` response's socket with destroySoon(): end, then destroy at once.
    (socket as Socket & { destroySoon?: () => void }).destroySoon = () => {
      socket.end();
      if (req.complete) {
        if (socket.writableFinished) close();
        else socket.once("finish", close);
        return;
      }
      const timer = setTimeout(close, lingerMs);
      req.once("end", () => (socket.writableFinished ? close() : socket.once("finish", close)));
      socket.once("end", close);
      socket.once("close", () => clearTimeout(timer));
    };
    req.resume();
    return writeResponse(res, response, { ...cors, connection: "close" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.hostname ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.hostname ?? "127.0.0.1";
  return {
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: (closeOptions) => close(closeOptions?.graceMs ?? services.config.http.shutdownGraceMs),
  };
}

function drain(req: IncomingMessage): void {
  req.resume();
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return (length !== undefined && length !== "0") || req.headers["transfer-encoding"] !== undefined;
}
