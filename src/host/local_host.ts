import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import azureFunctions from "@azure/functions";
import { AppError } from "../errors/app_error.js";
import { errorResponse } from "../http/api_response.js";
import type { HttpFunction } from "../http/http_function.js";
import type { Services } from "../services.js";
import { readBody, toHttpRequest } from "./http_request_adapter.js";
import { writeResponse } from "./response_writer.js";
import { RouteTable } from "./route_table.js";

// @azure/functions is CommonJS; its default export works from an ES module in plain Node as well as in a bundle.
const { InvocationContext } = azureFunctions;

export interface LocalHostOptions {
  readonly functions: readonly HttpFunction[];
  readonly services: Services;
  readonly port: number;
  readonly hostname?: string;
}

export interface LocalHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
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
  const maxBodyBytes = services.config.http.maxBodyBytes;

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Only reached when writing the response itself failed; the connection is all that is left to close.
      logger.error("response could not be written", { error: String(error) });
      res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "localhost"}`);
    const method = (req.method ?? "GET").toUpperCase();
    const found = routes.lookup(method, url.pathname);
    if (found.kind === "not_found") {
      drain(req);
      return writeResponse(res, errorResponse(new AppError("not_found", `no route for ${method} ${url.pathname}`), logger));
    }
    if (found.kind === "method_not_allowed") {
      drain(req);
      const response = errorResponse(new AppError("method_not_allowed", `${method} is not allowed on ${url.pathname}`), logger);
      return writeResponse(res, { ...response, headers: { allow: found.allowed.join(", ") } });
    }
    const body = await readBody(req, maxBodyBytes);
    if (body === "too_large") {
      const tooLarge = new AppError("payload_too_large", `request body is larger than ${maxBodyBytes} bytes`, { details: { maxBytes: maxBodyBytes } });
      // The rest of the upload is not read: the connection is closed once the answer is out.
      return writeResponse(res, { ...errorResponse(tooLarge, logger), headers: { connection: "close" } });
    }
    const { fn, params } = found.match;
    const request = toHttpRequest(req, { method, url, params, body });
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: (level, ...args) => logger.debug(args.map(String).join(" "), { function: fn.name, invocationId, level }),
    });
    await writeResponse(res, await fn.handler(request, context, services));
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function drain(req: IncomingMessage): void {
  req.resume();
}
