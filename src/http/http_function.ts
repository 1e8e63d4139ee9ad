import type { HttpMethod, HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { Caller } from "../auth/caller.js";
import type { AppConfig } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import type { Services } from "../services.js";
import type { Logger } from "../logging/logger.js";
import { errorResponse, type ApiResponse } from "./api_response.js";
import { checkOrigin } from "./origin_policy.js";
import { requestCaller } from "./request_caller.js";
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
  /**
   * How this route answers an error, when not with the standard error body: the OpenAI-compatible
   * routes answer in OpenAI's shape. The local host answers its own refusals of the route's
   * requests (413, 408, 403) with it too.
   */
  readonly errorResponse?: ErrorRenderer;
}

/**
 * A function's code as its module exports it (defineHttpFunction, definePublicHttpFunction): bound
 * to its route when the module is loaded, so that the route is written in one place only.
 */
export interface HttpHandler<Access extends HttpRoute["access"] = HttpRoute["access"]> {
  readonly access: Access;
  bind(route: HttpRoute & { readonly access: Access }): HttpFunction;
}

/** An error as a response: errorResponse (src/http/api_response.ts), or a route's own shape built on it. */
export type ErrorRenderer = (error: unknown, logger: Logger) => ApiResponse;

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

interface Definition<Scope> {
  readonly handler: (request: HttpRequest, scope: Scope) => Promise<HttpResponseInit>;
  /** Every error of the route, the wrapper's own (401, 403, 429) included, answered in another shape than the standard body. */
  readonly errorResponse?: ErrorRenderer;
}

interface CallerDefinition extends Definition<CallerScope> {
  /** Every request counts against the caller's rate limit, not only a POST (the MCP endpoint's GET and DELETE too). */
  readonly rateLimitsEveryRequest?: boolean;
  /**
   * Parameters added to the Bearer challenge of the route's 401 (`resource_metadata="..."`, RFC
   * 9728), given the configuration; none when it answers undefined.
   */
  readonly challengeParameters?: (config: AppConfig) => string | undefined;
}

/**
 * A function that runs as a caller. Before any handler work, in either host: a browser page of a
 * foreign origin is refused (403 origin_not_allowed: a cross-site form or text/plain POST must not
 * run anything, whatever cookies it carries), the caller is authenticated (401 unauthorized), and
 * a POST (with rateLimitsEveryRequest, any request) counts against the caller's rate limit (429
 * rate_limited). Every thrown error becomes
 * the standard error body, or the route's own (`errorResponse`). The CORS response headers are
 * the host's: the local host adds them, the Functions platform adds its own from the site's CORS list.
 */
export function defineHttpFunction(definition: CallerDefinition): HttpHandler<"caller"> {
  const { rateLimitsEveryRequest = false, challengeParameters } = definition;
  return {
    access: "caller",
    bind: (route) =>
      guarded(route, definition, async (request, context, services) => {
        let caller: Caller;
        try {
          caller = await requestCaller(request.headers, services);
        } catch (error) {
          throw challengeParameters ? withChallengeParameters(error, challengeParameters(services.config)) : error;
        }
        if (rateLimitsEveryRequest || request.method.toUpperCase() === "POST") await services.rateLimiter.consume(caller);
        return { context, services, caller };
      }),
  };
}

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
export function definePublicHttpFunction(definition: Definition<PublicScope>): HttpHandler<"public"> {
  return {
    access: "public",
    bind: (route) =>
      guarded(route, definition, async (request, context, services) => {
        checkOrigin(request.headers.get("origin"), request.headers.get("host"), services.config.http);
        return { context, services };
      }),
  };
}

function guarded<Scope>(
  { name, methods, route: template, access }: HttpRoute,
  definition: Definition<Scope>,
  scopeOf: (request: HttpRequest, context: InvocationContext, services: Services) => Promise<Scope>,
): HttpFunction {
  const route = `/api/${template}`;
  const spanNames = new Map(methods.map((method) => [method.toUpperCase(), `${method.toUpperCase()} ${route}`]));
  const renderError = definition.errorResponse ?? errorResponse;
  return {
    name,
    methods,
    route: template,
    access,
    ...(definition.errorResponse ? { errorResponse: definition.errorResponse } : {}),
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
            response = await definition.handler(request, await scopeOf(request, context, services));
          } catch (error) {
            response = renderError(error, services.logger.child({ function: name, invocationId: context.invocationId }));
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
