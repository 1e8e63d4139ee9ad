import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  createWorkerStandIn,
  driverReport,
  functionsBundle,
  importBundle,
  removeWorkerStandIn,
  repositoryRoot,
  runWithWorkerStandIn,
  runWithWorkerStandInAsync,
} from "../support/functions_worker.js";
import { TestIssuer } from "../support/test_issuer.js";

/**
 * The MCP tool triggers the Functions bundle registers, and their handlers run the way the worker
 * runs them: the trigger value and metadata as the MCP extension sends them, through the
 * library's own invocation model, to the return value the host receives.
 */
const driver = `
const { randomUUID } = await import("node:crypto");
const { HttpRequest, InvocationContext } = (await import("@azure/functions")).default;
${importBundle()}
const registrations = globalThis.__registrations;
const triggerOf = (metadata) => Object.values(metadata.bindings).find((b) => b.direction === "in" && b.type.endsWith("Trigger"));
const tools = registrations
  .filter(({ metadata }) => triggerOf(metadata).type === "mcpToolTrigger")
  .map(({ metadata }) => {
    const trigger = triggerOf(metadata);
    return { name: metadata.name, toolName: trigger.toolName, description: trigger.description, useResultSchema: trigger.useResultSchema, toolProperties: JSON.parse(trigger.toolProperties) };
  });

// One call as the extension makes it and the worker runs it; the answer as the host reads it back.
async function callTool(functionName, args, headers) {
  const registration = registrations.find((r) => r.metadata.name === functionName);
  const [triggerName] = Object.keys(registration.metadata.bindings);
  const toolContext = { name: triggerOf(registration.metadata).toolName, arguments: args, transport: { name: "http-streamable", properties: { headers } } };
  const invocation = globalThis.__programmingModel.getInvocationModel({
    invocationId: randomUUID(),
    metadata: registration.metadata,
    request: {
      inputData: [{ name: triggerName, data: { string: JSON.stringify(toolContext) } }],
      triggerMetadata: { mcptoolcontext: { json: JSON.stringify(toolContext) } },
    },
    log() {},
  });
  const { context, inputs } = await invocation.getArguments();
  const result = await invocation.invokeFunction(context, inputs, registration.callback);
  const response = await invocation.getResponse(context, result);
  const returned = JSON.parse(response.returnValue.string);
  return { type: returned.type, result: JSON.parse(returned.content) };
}

const calls = {};
if (process.env.TOKEN) {
  const bearer = { Host: "app.azurewebsites.net", Authorization: "Bearer " + process.env.TOKEN };
  const sessionId = "mcp-bundle-" + randomUUID();
  calls.calculator = await callTool("mcp-calculator", { expression: "2+3*4" }, { ...bearer, "X-Session-Id": sessionId });
  calls.divideByZero = await callTool("mcp-calculator", { expression: "1/0" }, { ...bearer, "X-Session-Id": sessionId });
  calls.noToken = await callTool("mcp-calculator", { expression: "2+3*4" }, { Host: "app.azurewebsites.net" });
  calls.forbidden = await callTool("mcp-echo", { text: "hi" }, bearer);
  calls.foreignPage = await callTool("mcp-calculator", { expression: "1+1" }, { ...bearer, Origin: "http://evil.example" });
  const audit = await registrations.find((r) => r.metadata.name === "memory-audit").callback(
    new HttpRequest({ method: "GET", url: "http://localhost/api/memory/audit/" + sessionId, params: { sessionId }, headers: { authorization: bearer.Authorization } }),
    new InvocationContext({ functionName: "memory-audit" }),
  );
  calls.audit = audit.jsonBody;
}
console.log(JSON.stringify({ tools, calls }));
process.exit(0);
`;

let nodePath: string;
let issuer: TestIssuer;
const audience = "api://codex-mcp-bundle";

beforeAll(async () => {
  nodePath = createWorkerStandIn();
  issuer = await TestIssuer.start();
});

afterAll(async () => {
  removeWorkerStandIn(nodePath);
  await issuer?.stop();
});

const policy = '{"agent":{"channels":["chat"]},"echo":{"roles":["admin"]}}';

describe("the Functions bundle's MCP tools", () => {
  it("registers every enabled plugin that some caller may run on mcp, with its description and typed properties", () => {
    const result = runWithWorkerStandIn(nodePath, driver, { STORAGE_CONNECTION_STRING: inject("storageConnectionString"), PLUGIN_POLICY: policy });
    expect(result.status, result.stderr).toBe(0);
    const { tools } = driverReport(result);
    // agent runs on chat only; echo on every channel for admins (some caller); shell's own policy leaves mcp out; huggingface is disabled without HF_TOKEN.
    expect(tools.map((tool: any) => tool.toolName)).toEqual(["calculator", "echo", "memory"]);
    for (const tool of tools) {
      expect(tool.name).toBe(`mcp-${tool.toolName}`);
      expect(tool.useResultSchema).toBe(true);
      expect(tool.description.length).toBeGreaterThan(20);
    }
    const byName = Object.fromEntries(tools.map((tool: any) => [tool.toolName, tool]));
    expect(byName.calculator.toolProperties).toEqual([
      { propertyName: "expression", propertyType: "string", description: expect.stringContaining("2+3*4"), isRequired: true, isArray: false },
    ]);
    // The enum's values, in the description and as the extension's enumValues; optional fields are not required.
    const action = byName.memory.toolProperties.find((p: any) => p.propertyName === "action");
    expect(action).toMatchObject({ propertyType: "string", isRequired: true, enumValues: ["list", "read", "search", "note", "clear"] });
    expect(action.description).toMatch(/One of: list, read, search, note, clear\./);
    expect(byName.memory.toolProperties.find((p: any) => p.propertyName === "limit")).toMatchObject({ propertyType: "integer", isRequired: false });
  });

  it("with HF_TOKEN registers huggingface too, its nested settings as an object described in words", () => {
    const result = runWithWorkerStandIn(nodePath, driver, { STORAGE_CONNECTION_STRING: inject("storageConnectionString"), HF_TOKEN: "hf_test" });
    expect(result.status, result.stderr).toBe(0);
    const { tools } = driverReport(result);
    const huggingface = tools.find((tool: any) => tool.toolName === "huggingface");
    expect(huggingface.toolProperties.map((p: any) => [p.propertyName, p.propertyType, p.isRequired])).toEqual([
      ["task", "string", false],
      ["inputs", "string", true],
      ["model", "string", false],
      ["parameters", "object", false],
    ]);
    expect(huggingface.toolProperties[0].description).toMatch(/Default: "text-classification"\./);
    expect(huggingface.toolProperties[3].description).toMatch(/A JSON object with the fields: top_k \(integer\), function_to_apply \(one of: sigmoid, softmax, none\)/);
  });

  it("authenticates each call from the bearer token the extension forwards, runs it on the mcp channel and answers the host a CallToolResult", async () => {
    const token = await issuer.token("alice-oid", audience);
    const result = await runWithWorkerStandInAsync(nodePath, driver, {
      STORAGE_CONNECTION_STRING: inject("storageConnectionString"),
      AUTH_MODE: "jwt",
      AUTH_JWT_ISSUER: issuer.issuer,
      AUTH_JWT_AUDIENCE: audience,
      PLUGIN_POLICY: policy,
      TOKEN: token,
    });
    expect(result.status, result.stderr).toBe(0);
    const { calls } = driverReport(result);
    expect(calls.calculator).toEqual({ type: "call_tool_result", result: { content: [{ type: "text", text: "14" }] } });
    expect(calls.divideByZero).toMatchObject({
      type: "call_tool_result",
      result: { isError: true, content: [{ type: "text", text: expect.stringMatching(/^error \(invalid_input\): /) }], structuredContent: { error: { code: "invalid_input" } } },
    });
    expect(calls.noToken.result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^error \(unauthorized\): /) }] });
    expect(calls.forbidden.result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^error \(plugin_not_found\): /) }] });
    expect(calls.foreignPage.result).toMatchObject({ isError: true, content: [{ text: expect.stringMatching(/^error \(origin_not_allowed\): /) }] });
    // Both calls of the session, in its audit log under the caller's principal, read back as every route reads it.
    expect(calls.audit.entries).toMatchObject([
      { type: "plugin_run", plugin: "calculator", input: { expression: "2+3*4" }, result: 14, outcome: "success" },
      { type: "plugin_run", plugin: "calculator", input: { expression: "1/0" }, outcome: "invalid_input" },
    ]);
  });

  it("does not contain the MCP SDK, which only the local host loads, on its first MCP request", () => {
    const bundle = readFileSync(functionsBundle, "utf8");
    expect(bundle).not.toMatch(/StreamableHTTPServerTransport|class McpServer\b/);
    const start = readFileSync(join(repositoryRoot, "dist", "src", "host", "start.js"), "utf8");
    // The local host's bundle imports it only dynamically, from node_modules.
    expect(start).not.toMatch(/^import[^;]*["']@modelcontextprotocol\/sdk/m);
    expect(start).toMatch(/import\("@modelcontextprotocol\/sdk\/server\/mcp\.js"\)/);
  });
});
