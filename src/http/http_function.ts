import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { z } from "zod";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Caller } from "../auth/caller.js";
import type { AppConfig } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import type { Services } from "../services.js";
import type { ErrorCode } from "../errors/error_codes.js";
import { standardErrors, type ErrorFormat } from "./api_response.js";
import { checkOrigin } from "./origin_policy.js";
import { requestCaller } from "./request_caller.js";
import { parseRequest } from "./request_parts.js";
import type { AnswerOf, RequestContract, RequestOf, ResponsesContract, RouteContract } from "./route_contract.js";
import { incomingContext, inSpan } from "../telemetry/tracing.js";

/**
 * Where an HTTP function is reached and who may call it: all that the Functions host is told at
 * start, before the function's code is loaded (functions/registrations.ts holds every one).
 */
export interface HttpRoute {
  readonly name: string;
  readonly methods: readonly HttpMethod[];
  /** Route template below the `api` prefix, as in host.json: `memory/audit/{sessionId}`. */
  readonly route: string;
  /** `caller`: runs as an authenticated caller; `public`: anonymous and shows no caller data (health, static pages). */
  readonly access: "caller" | "public";
}

/**
 * One HTTP function with its code: the Functions entry (functions/main.ts) calls it once its
 * module is loaded, and the local host serves the very same object, so there is one list of routes.
 */
export interface HttpFunction extends HttpRoute {
  readonly handler: (request: HttpRequest, context: InvocationContext, services: Services) => Promise<HttpResponseInit>;
  /** What the route reads and answers: GET /api/openapi.json is generated from it. */
  readonly contract: RouteContract;
  /**
   * How this route answers an error: the standard error body, or the OpenAI-compatible routes'
   * OpenAI shape. The local host answers its own refusals of the route's requests (413, 408, 403) with it too.
   */
  readonly errorFormat: ErrorFormat;
  /** Every code an answer to a request of this method may have: the wrapper's own (below) and the contract's. */
  errorCodes(method: HttpMethod): readonly ErrorCode[];
}

/**
 * A function's code as its module exports it (defineHttpFunction, definePublicHttpFunction): bound
 * to its route when the module is loaded, so that the route is written in one place only.
 */
export interface HttpHandler<Access extends HttpRoute["access"] = HttpRoute["access"]> {
  readonly access: Access;
  bind(route: HttpRoute & { readonly access: Access }): HttpFunction;
}

export interface CallerScope {
  readonly context: InvocationContext;
  readonly services: Services;
  /** Who calls, resolved before the handler runs; everything the handler stores or reads is this caller's. */
  readonly caller: Caller;
}

export interface PublicScope {
  readonly context: InvocationContext;
  readonly services: Services;
}

/** A route's contract and the code that answers it, its argument and answer typed by the contract. */
type Definition<Scope, Request extends RequestContract, Answers extends ResponsesContract> = RouteContract<Request, Answers> & {
  readonly handler: (request: RequestOf<Request>, scope: Scope) => Promise<AnswerOf<Answers>>;
  /** How the body's text becomes the request's body, where not as JSON checked against `request.body` (OpenAI's routes name the field at fault as OpenAI does). */
  readonly parseBody?: (text: string) => Request["body"] extends z.ZodType ? z.output<Request["body"]> : never;
  /** Every error of the route, the wrapper's own (401, 403, 429) included, answered in another shape than the standard body. */
  readonly errorFormat?: ErrorFormat;
};

type CallerDefinition<Request extends RequestContract, Answers extends ResponsesContract> = Definition<CallerScope, Request, Answers> & {
  /** Every request counts against the caller's rate limit, not only a POST (the MCP endpoint's GET and DELETE too). */
  readonly rateLimitsEveryRequest?: boolean;
  /**
   * Parameters added to the Bearer challenge of the route's 401 (`resource_metadata="..."`, RFC
   * 9728), given the configuration; none when it answers undefined.
   */
  readonly challengeParameters?: (config: AppConfig) => string | undefined;
};

/**
 * A function that runs as a caller. Before any handler work, in either host: a browser page of a
 * foreign origin is refused (403 origin_not_allowed: a cross-site form or text/plain POST must not
 * run anything, whatever cookies it carries), the caller is authenticated (401 unauthorized), and
 * a POST (with rateLimitsEveryRequest, any request) counts against the caller's rate limit (429
 * rate_limited). Then the request's parts its contract declares are checked (request_parts.ts) and
 * handed to the handler parsed. Every thrown error becomes the standard error body, or the route's
 * own (`errorFormat`). The CORS response headers are the host's: the local host adds them, the
 * Functions platform adds its own from the site's CORS list.
 */
export function defineHttpFunction<const Request extends RequestContract = Record<never, never>, const Answers extends ResponsesContract = ResponsesContract>(
  definition: CallerDefinition<Request, Answers>,
): HttpHandler<"caller"> {
  const { rateLimitsEveryRequest = false, challengeParameters } = definition;
  return {
    access: "caller",
    bind: (route) =>
      guarded(
        route,
        definition,
        async (request, context, services) => {
          let caller: Caller;
          try {
            caller = await requestCaller(request.headers, services);
          } catch (error) {
            throw challengeParameters ? withChallengeParameters(error, challengeParameters(services.config)) : error;
          }
          if (rateLimitsEveryRequest || request.method.toUpperCase() === "POST") await services.rateLimiter.consume(caller);
          return { context, services, caller };
        },
        (method) => [...callerErrors, ...(rateLimitsEveryRequest || method === "POST" ? (["rate_limited"] as const) : [])],
      ),
  };
}

/** What refusing a caller can answer (requestCaller): before the handler, whatever the route. */
const callerErrors: readonly ErrorCode[] = ["unauthorized", "origin_not_allowed", "auth_unavailable", "internal_error"];

/** A 401's Bearer challenge with `parameters` first (`Bearer resource_metadata="...", error="invalid_token"`); any other error as it is. */
function withChallengeParameters(error: unknown, parameters: string | undefined): unknown {
  const challenge = error instanceof AppError ? error.headers?.["www-authenticate"] : undefined;
  if (parameters === undefined || challenge === undefined || !/^Bearer\b/.test(challenge)) return error;
  const rest = challenge.slice("Bearer".length).trim();
  const appError = error as AppError;
  return new AppError(appError.code, appError.message, {
    details: appError.details,
    cause: appError.cause,
    headers: { ...appError.headers, "www-authenticate": `Bearer ${parameters}${rest === "" ? "" : `, ${rest}`}` },
  });
}

/** A function anyone may call: it must show no caller's data. The Origin check applies all the same. */
export function definePublicHttpFunction<
  const Request extends RequestContract = Record<never, never>,
  const Answers extends ResponsesContract = ResponsesContract,
>(definition: Definition<PublicScope, Request, Answers>): HttpHandler<"public"> {
  return {
    access: "public",
    bind: (route) =>
      guarded(
        route,
        definition,
        async (request, context, services) => {
          checkOrigin(request.headers.get("origin"), request.headers.get("host"), services.config.http);
          return { context, services };
        },
        () => ["origin_not_allowed", "internal_error"],
      ),
  };
}

function guarded<Scope, Request extends RequestContract, Answers extends ResponsesContract>(
  { name, methods, route: template, access }: HttpRoute,
  definition: Definition<Scope, Request, Answers>,
  scopeOf: (request: HttpRequest, context: InvocationContext, services: Services) => Promise<Scope>,
  wrapperErrors: (method: HttpMethod) => readonly ErrorCode[],
): HttpFunction {
  const route = `/api/${template}`;
  const spanNames = new Map(methods.map((method) => [method.toUpperCase(), `${method.toUpperCase()} ${route}`]));
  const { handler, parseBody, errorFormat = standardErrors, operationId, summary, description, request: requestContract, responses, errors = [] } = definition;
  const contract: RouteContract = { operationId, summary, description, request: requestContract, responses, errors };
  // A body read before the handler can be too large or no JSON, or not of the shape.
  const bodyErrors: readonly ErrorCode[] = requestContract?.body ? ["invalid_request", "payload_too_large"] : [];
  return {
    name,
    methods,
    route: template,
    access,
    contract,
    errorFormat,
    errorCodes: (method) => [...new Set([...wrapperErrors(method), ...bodyErrors, ...errors])],
    handler: (request, context, services) => {
      const method = request.method.toUpperCase();
      // One span per request, in either host, continuing the caller's or the Functions host's trace.
      // The route template names it, never the path: a path carries session and run ids.
      return inSpan(
        spanNames.get(method) ?? `${method} ${route}`,
        {
          kind: SpanKind.SERVER,
          parent: incomingContext(context.traceContext, request.headers),
          attributes: { "http.request.method": method, "http.route": route, "faas.trigger": "http", "faas.invocation_id": context.invocationId },
        },
        async (span) => {
          let response: HttpResponseInit;
          try {
            const scope = await scopeOf(request, context, services);
            const parts = await parseRequest(request, requestContract, { maxBodyBytes: services.config.http.maxBodyBytes, parseBody });
            // One of the answers of the route's contract, each an HttpResponseInit.
            response = (await handler(parts as RequestOf<Request>, scope)) as HttpResponseInit;
          } catch (error) {
            response = errorFormat.respond(error, services.logger.child({ function: name, invocationId: context.invocationId }));
          }
          const status = response.status ?? 200;
          span.setAttribute("http.response.status_code", status);
          // A 4xx is the caller's mistake, not this server's: only 5xx marks the span as failed (OpenTelemetry's HTTP server rule).
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          return response;
        },
      );
    },
  };
}
