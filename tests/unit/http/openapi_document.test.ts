import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, describe, expect, it } from "vitest";
import { pluginClasses, pluginNames } from "../../../plugins/index.js";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { loadConfig } from "../../../src/config/config.js";
import { httpFunctions } from "../../../functions/index.js";
import { errorCodes, isErrorCode } from "../../../src/errors/error_codes.js";
import { OpenApiDocuments, openApiPath, pluginInputComponent } from "../../../src/http/openapi_document.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { createServices, type Services } from "../../../src/services.js";
import { openApiProblems } from "../../support/openapi.js";

const opened: Services[] = [];
afterAll(async () => {
  for (const services of opened) await services.close();
});

function servicesOf(env: Record<string, string>): Services {
  const services = createServices(loadConfig(env), { plugins: pluginClasses, storage: undefined, logger: silentLogger });
  opened.push(services);
  return services;
}

/** The app's document as GET /api/openapi.json builds it for these services. */
const documentsOf = (services: Services) => new OpenApiDocuments(httpFunctions, services.registry, services.policy, services.config.version);

const local = servicesOf({ SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" });
const document: any = documentsOf(local).forCaller(localCaller);
const operations = Object.entries(document.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
  Object.entries(item)
    .filter(([key]) => key !== "servers")
    .map(([method, operation]) => ({ path, method, operation })),
);

describe("the OpenAPI document", () => {
  it("documents every method of every registered function, with each answer its contract declares and each error code it may answer", () => {
    expect(httpFunctions.length).toBeGreaterThan(15);
    for (const fn of httpFunctions) {
      for (const method of fn.methods) {
        const operation = document.paths[openApiPath(fn.route)]?.[method.toLowerCase()];
        expect(operation, `${method} ${fn.route}`).toBeDefined();
        const statuses = Object.keys(operation.responses);
        expect(statuses, `${method} ${fn.route}`).toEqual(expect.arrayContaining(Object.keys(fn.contract.responses)));
        for (const code of fn.errorCodes(method)) {
          const name = fn.errorFormat.codeName?.(code) ?? code;
          expect(operation.responses[String(errorCodes[code].status)]?.description, `${code} of ${method} ${fn.route}`).toContain(`\`${name}\``);
        }
      }
    }
  });

  it("is a valid OpenAPI 3.1 document: its structure, every schema in it, every $ref", async () => {
    const validator = new Validator();
    expect((await validator.validate(structuredClone(document))).valid).toBe(true);
    expect(validator.version).toBe("3.1");
    expect(await openApiProblems(document)).toEqual([]);
  });

  it.each([
    ["a broken structure", (broken: any) => (broken.paths["/chat"].post.responses = "none")],
    ["an invalid schema", (broken: any) => (broken.components.schemas.ErrorBody.type = 5)],
    ["a $ref to nothing", (broken: any) => (broken.components.schemas.ExecuteRequest.properties.data.anyOf[0] = { $ref: "#/components/schemas/nothing" })],
  ])("is refused with %s (so the test above can fail)", async (_name, breakIt) => {
    const broken = structuredClone(document);
    breakIt(broken);
    expect(await openApiProblems(broken)).not.toEqual([]);
  });

  it("says OpenAPI 3.1.0, the app's version, the /api prefix and bearer tokens", () => {
    expect(document.openapi).toBe("3.1.0");
    expect(document.info.version).toBe(local.config.version);
    expect(document.servers).toEqual([{ url: "/api" }]);
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    expect(document.security).toEqual([{ bearerAuth: [] }]);
  });

  it("lets only health, liveness, the web console's page and files and the MCP endpoint's OAuth metadata go without a token", () => {
    const open = operations.filter(({ operation }) => operation.security !== undefined).map(({ path }) => path);
    expect(open.sort()).toEqual(["/.well-known/oauth-protected-resource/mcp", "/console", "/console/assets/{asset}", "/health", "/health/live"]);
    expect(document.paths["/health"].get.security).toEqual([]);
    expect(document.paths["/health/live"].get.security).toEqual([]);
  });

  it("includes every plugin's input schema, as GET /api/plugins shows it, and offers each as the execute request's data", () => {
    const refs = document.components.schemas.ExecuteRequest.properties.data.anyOf;
    for (const description of local.registry.describe()) {
      const { $schema: _dialect, ...schema } = description.inputSchema;
      expect(document.components.schemas[pluginInputComponent(description.name)]).toEqual(schema);
      expect(refs).toContainEqual({ $ref: `#/components/schemas/plugin.${description.name}.input` });
    }
    expect(refs).toContainEqual({ type: "string" });
    expect(refs).toHaveLength(pluginNames.length + 1);
    expect(document.components.schemas.ExecuteRequest.properties.data.description).toMatch(
      /^A JSON value: an object of the plugin's input schema .*, or a string the plugin reads as text/,
    );
  });

  it("describes parameters with the handlers' patterns and limits", () => {
    const audit = document.paths["/memory/audit/{sessionId}"].get.parameters;
    expect(audit).toContainEqual(
      expect.objectContaining({ in: "path", name: "sessionId", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" } }),
    );
    expect(audit).toContainEqual(
      expect.objectContaining({ in: "query", name: "limit", schema: expect.objectContaining({ type: "integer", minimum: 1, maximum: 200, default: 50 }) }),
    );
    expect(audit).toContainEqual(expect.objectContaining({ in: "query", name: "cursor" }));
    expect(document.paths["/runs/{runId}"].get.parameters).toEqual([
      expect.objectContaining({ in: "path", name: "runId", required: true, schema: { type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" } }),
    ]);
    expect(document.components.schemas.ChatRequest.properties.sessionId).toMatchObject({ type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" });
  });

  it("answers each error status with the error body, listing only codes of that status, with their headers", () => {
    const codes = document.components.schemas.ErrorBody.properties.error.properties.code.enum;
    expect(codes).toEqual(Object.keys(errorCodes));
    for (const { path, method, operation } of operations) {
      for (const [status, response] of Object.entries(operation.responses as Record<string, any>)) {
        // `default`: what the MCP SDK answers of its own (JSON-RPC errors), not the app's error body.
        if (status === "default" || Number(status) < 400 || (path === "/health" && status === "503")) continue;
        // The OpenAI-compatible routes answer errors in OpenAI's shape, with the same codes (and OpenAI's model_not_found).
        const openAi = path.startsWith("/v1/");
        const body = openAi ? "OpenAiErrorBody" : "ErrorBody";
        expect(response.content["application/json"].schema, `${method} ${path} ${status}`).toEqual({ $ref: `#/components/schemas/${body}` });
        const listed = [...response.description.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!);
        expect(listed.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        for (const code of listed) {
          const codeStatus = openAi && code === "model_not_found" ? 404 : isErrorCode(code) && errorCodes[code].status;
          expect(codeStatus, `${code} in ${method} ${path}`).toBe(Number(status));
        }
      }
      // Every route that runs as a caller (all but the public ones, `security: []`).
      if (operation.security === undefined) {
        expect(operation.responses["401"].headers["WWW-Authenticate"]).toMatchObject({ required: true });
        expect(operation.responses["403"].description).toContain("origin_not_allowed");
      }
      // Every POST counts against the caller's rate limit, and every request of the MCP endpoint.
      if (method === "post" || path === "/mcp") expect(operation.responses["429"].headers["Retry-After"]).toBeDefined();
    }
    const execute = document.paths["/plugins/execute"].post.responses;
    expect(Object.keys(execute).sort()).toEqual(["200", "202", "400", "401", "403", "404", "409", "413", "429", "500", "502", "503", "504"]);
    expect(execute["202"].headers.Location).toMatchObject({ required: true });
  });

  it("describes the OpenAI-compatible routes: the model list, chat completions as JSON or as chunks, x-session-id, model_not_found", () => {
    expect(document.paths["/v1/models"].get.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/OpenAiModelList" });
    const completions = document.paths["/v1/chat/completions"].post;
    expect(completions.requestBody.content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ChatCompletionRequest" });
    expect(completions.responses["200"].content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ChatCompletion" });
    expect(completions.responses["200"].content["text/event-stream"]).toBeDefined();
    expect(completions.responses["404"].description).toContain("`model_not_found`");
    expect(completions.responses["503"].description).toContain("`llm_unavailable`");
    const header = completions.parameters.find((parameter: any) => parameter.in === "header" && parameter.name === "x-session-id");
    expect(header.required ?? false).toBe(false);
    expect(header.schema).toMatchObject({ type: "string", pattern: "^[A-Za-z0-9_-]{1,128}$" });
    expect(document.components.schemas.ChatCompletionRequest.required).toEqual(["model", "messages"]);
    expect(document.components.schemas.ChatCompletionChunk.properties.object).toMatchObject({ const: "chat.completion.chunk" });
    expect(document.components.schemas.OpenAiErrorBody.properties.error.properties.code.enum).toEqual([...Object.keys(errorCodes), "model_not_found"]);
  });

  it("answers chat as JSON or as server-sent events", () => {
    const content = document.paths["/chat"].post.responses["200"].content;
    expect(content["application/json"].schema).toEqual({ $ref: "#/components/schemas/ChatReply" });
    expect(content["text/event-stream"]).toBeDefined();
  });
});

describe("OpenApiDocuments", () => {
  const cloud = servicesOf({
    AUTH_MODE: "jwt",
    AUTH_JWT_ISSUER: "https://issuer.example/",
    AUTH_JWT_AUDIENCE: "api://codex",
    SHELL_PLUGIN_ALLOWED_COMMANDS: "echo,date",
  });
  const cloudDocuments = documentsOf(cloud);
  const user = createCaller("user", "alice");
  const admin = createCaller("user", "root", ["admin"]);

  it("shows a caller only the plugins GET /api/plugins shows it: no allowed commands to one who may not run the shell", () => {
    const forUser = JSON.stringify(cloudDocuments.forCaller(user));
    const forAdmin = JSON.stringify(cloudDocuments.forCaller(admin));
    expect(forUser).not.toContain(pluginInputComponent("shell"));
    expect(forUser).not.toContain("echo, date");
    expect(forAdmin).toContain(pluginInputComponent("shell"));
    expect(forAdmin).toContain(pluginInputComponent("echo"));
  });

  it("builds a document once per set of visible plugins", () => {
    const first = cloudDocuments.forCaller(user);
    expect(cloudDocuments.forCaller(createCaller("user", "bob"))).toBe(first);
    expect(cloudDocuments.forCaller(admin)).not.toBe(first);
    expect(new OpenApiDocuments(httpFunctions, cloud.registry, cloud.policy, "9.9.9").forCaller(user)).not.toBe(first);
  });
});
