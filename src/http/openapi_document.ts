import type { HttpMethod } from "@azure/functions";
import { z } from "zod";
import {
  createDocument,
  type ZodOpenApiContentObject,
  type ZodOpenApiOperationObject,
  type ZodOpenApiPathItemObject,
  type ZodOpenApiPathsObject,
  type ZodOpenApiResponseObject,
  type ZodOpenApiResponsesObject,
} from "zod-openapi";
import type { Caller } from "../auth/caller.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { errorCodes, type ErrorCode } from "../errors/error_codes.js";
import { pluginDataSchema } from "../plugins/plugin_input.js";
import type { PluginDescription, PluginRegistry } from "../plugins/plugin_registry.js";
import type { ErrorFormat } from "./api_response.js";
import type { HttpFunction } from "./http_function.js";
import type { ResponseContract } from "./route_contract.js";

/** An OpenAPI 3.1 document, as JSON. */
export type OpenApiDocument = ReturnType<typeof createDocument>;

/** Where a plugin's input schema sits in `components.schemas`. */
export function pluginInputComponent(pluginName: string): string {
  return `plugin.${pluginName}.input`;
}

/**
 * `GET /api/openapi.json` of one caller. The document lists the plugins that caller may run,
 * exactly as `GET /api/plugins` does: a plugin's description can name configuration (the shell
 * plugin's allowed commands), and a caller who may not run a plugin is not shown it there either.
 * Everything else is the same for every caller, so a document is built once per set of visible
 * plugins (a handful of sets at most) and kept for the life of the process.
 */
export class OpenApiDocuments {
  private readonly built = new Map<string, OpenApiDocument>();

  constructor(
    private readonly functions: readonly HttpFunction[],
    private readonly registry: PluginRegistry,
    private readonly policy: PluginPolicy,
    private readonly version: string,
  ) {}

  forCaller(caller: Caller): OpenApiDocument {
    const plugins = this.registry.describeFor(caller, this.policy);
    const key = plugins.map((plugin) => plugin.name).join("\n");
    let document = this.built.get(key);
    if (!document) {
      document = buildOpenApiDocument({ version: this.version, plugins, functions: this.functions });
      this.built.set(key, document);
    }
    return document;
  }
}

/**
 * The document of `functions`, generated from their contracts (src/http/route_contract.ts): each
 * route's path and methods, parameters, request body, answers, and the error codes it may answer
 * (its own and its wrapper's), each status with the route's error body.
 */
function buildOpenApiDocument(options: { version: string; plugins: readonly PluginDescription[]; functions: readonly HttpFunction[] }): OpenApiDocument {
  const pluginSchemas = Object.fromEntries(options.plugins.map((plugin) => [pluginInputComponent(plugin.name), openApiSchemaOf(plugin.inputSchema)]));
  const pluginRefs = Object.keys(pluginSchemas).map((name) => ({ $ref: `#/components/schemas/${name}` }));
  const paths: ZodOpenApiPathsObject = {};
  for (const fn of options.functions) {
    const path = openApiPath(fn.route);
    const item: ZodOpenApiPathItemObject = paths[path] ?? {};
    paths[path] = item;
    fn.methods.forEach((method, index) => {
      item[method.toLowerCase() as "get" | "post"] = operationOf(fn, method, index);
    });
  }
  const streamed = options.functions.flatMap((fn) => Object.values(fn.contract.responses).flatMap((response) => (response?.events ? [response.events] : [])));

  return createDocument(
    {
      openapi: "3.1.0",
      info: {
        title: "CodexContinue Functions",
        version: options.version,
        description:
          "A catalogue of plugins for chat applications, and the runs of them. Every error body is " +
          '`{"status":"error","error":{"code","message","details?"}}` with a stable `code`, but on the OpenAI-compatible `/v1` routes, ' +
          'which answer in OpenAI\'s shape, `{"error":{"message","type","param","code"}}`, with the same `code`. Any route may also answer ' +
          "404 `not_found` (unknown route), 405 `method_not_allowed` (with `Allow`) and, on the local host, 408 `request_timeout`, " +
          "400 `invalid_host_header` and 403 `host_not_allowed`.",
      },
      servers: [{ url: "/api" }],
      // Every route runs as a caller, but the public ones (`security: []`).
      security: [{ bearerAuth: [] }],
      paths,
      components: {
        securitySchemes: {
          bearerAuth: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "A Microsoft Entra ID (or other OpenID issuer's) access token for the API (`AUTH_MODE=jwt`). Not needed with `AUTH_MODE=none`.",
          },
        },
        // The schemas of the routes are components by their ids (`.meta({ id })`); these are named by no route's body.
        schemas: { ...Object.fromEntries(streamed.map((events) => [componentId(events), events])), ...pluginSchemas },
      },
    },
    {
      override: ({ zodSchema, jsonSchema, io }) => {
        // A plugin's `data` is whatever the named plugin reads: one of the plugins' schemas, or text.
        if (zodSchema === pluginDataSchema) jsonSchema.anyOf = [...pluginRefs, { type: "string" }];
        // A request with an unknown field is refused (strict schemas), but an answer may gain
        // fields in a later version: clients must not be told to reject them.
        if (io === "output" && jsonSchema.additionalProperties === false) delete jsonSchema.additionalProperties;
      },
    },
  );
}

/** A Functions route template as an OpenAPI path below the `/api` server: `runs/{runId:int?}` is `/runs/{runId}`. */
export function openApiPath(route: string): string {
  return `/${route.replace(/\{([^}:?]+)[^}]*\}/g, "{$1}")}`;
}

/** One method of a route; a route of several methods names the others' operations after its own (`mcp`, `mcpGet`). */
function operationOf(fn: HttpFunction, method: HttpMethod, index: number): ZodOpenApiOperationObject {
  const { operationId, summary, description, request = {}, responses } = fn.contract;
  const verb = method.toLowerCase();
  const hasBody = method === "POST" || method === "PUT" || method === "PATCH";
  const requestBody = !hasBody
    ? undefined
    : request.body
      ? { required: true, content: json(request.body) }
      : request.rawBody
        ? { required: true, content: { "application/json": { schema: { type: "object" as const, description: request.rawBody } } } }
        : undefined;
  return {
    operationId: index === 0 ? operationId : `${operationId}${verb[0]!.toUpperCase()}${verb.slice(1)}`,
    summary,
    ...(description ? { description } : {}),
    ...(fn.access === "public" ? { security: [] } : {}),
    ...(request.params || request.query || request.headers
      ? {
          requestParams: {
            ...(request.params ? { path: request.params } : {}),
            ...(request.query ? { query: request.query } : {}),
            ...(request.headers ? { header: request.headers } : {}),
          },
        }
      : {}),
    ...(requestBody ? { requestBody } : {}),
    responses: {
      ...Object.fromEntries(Object.entries(responses).map(([status, response]) => [status, responseOf(response!)])),
      ...errorResponses(fn.errorCodes(method), fn.errorFormat),
    },
  };
}

function responseOf({ description, body, events, content = {}, headers }: ResponseContract): ZodOpenApiResponseObject {
  const media: ZodOpenApiContentObject = {
    ...(body ? json(body) : {}),
    ...(events
      ? { "text/event-stream": { schema: { type: "string", description: `Server-sent events (see above); the data of each is a ${componentId(events)}.` } } }
      : {}),
    ...Object.fromEntries(
      Object.entries(content).map(([type, what]) => [
        type,
        { schema: { type: type === "application/json" ? ("object" as const) : ("string" as const), description: what } },
      ]),
    ),
  };
  return {
    description,
    ...(headers
      ? { headers: Object.fromEntries(Object.entries(headers).map(([name, header]) => [name, { ...header, schema: { type: "string" as const } }])) }
      : {}),
    ...(Object.keys(media).length > 0 ? { content: media } : {}),
  };
}

/** The component name of a schema given one (`.meta({ id })`). */
function componentId(schema: z.ZodType): string {
  const id = z.globalRegistry.get(schema)?.id;
  if (!id) throw new Error("a response's event schema needs an id (.meta({ id })) to be listed among the document's components");
  return id;
}

const json = (schema: z.ZodType): ZodOpenApiContentObject => ({ "application/json": { schema } });

/** Codes grouped by their status in src/errors/error_codes.ts, each status with the headers that come with it. */
function errorResponses(codes: readonly ErrorCode[], format: ErrorFormat): ZodOpenApiResponsesObject {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorCodes[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: ZodOpenApiResponsesObject = {};
  for (const [status, statusCodes] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[`${status}` as keyof ZodOpenApiResponsesObject & `${number}`] = {
      description: statusCodes.map((code) => `\`${format.codeName?.(code) ?? code}\``).join(", "),
      ...(status === 401
        ? {
            headers: {
              "WWW-Authenticate": {
                description: '`Bearer`, with `error="invalid_token"` for a token that was refused.',
                required: true,
                schema: { type: "string" },
              },
            },
          }
        : {}),
      ...(statusCodes.includes("rate_limited")
        ? { headers: { "Retry-After": { description: "Seconds until the caller may send again (`rate_limited`).", schema: { type: "integer", minimum: 0 } } } }
        : {}),
      content: json(format.body),
    };
  }
  return responses;
}

/** A plugin's JSON Schema as a component: `$schema` belongs to a standalone document, not to a schema inside this one. */
function openApiSchemaOf(inputSchema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...schema } = inputSchema;
  return schema;
}
