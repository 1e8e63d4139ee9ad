import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../../functions/index.js";
import { pluginClasses } from "../../../plugins/index.js";
import { startLocalHost, type LocalHost } from "../../../src/host/local_host.js";
import type { ChatModel } from "../../../src/llm/chat_model.js";
import { createLogger } from "../../../src/logging/logger.js";
import { createServices, type Services } from "../../../src/services.js";
import { startTelemetry } from "../../../src/telemetry/telemetry.js";
import type { Telemetry } from "../../../src/telemetry/telemetry_handle.js";
import { startIngestionStandIn, type Envelope } from "../../support/ingestion_stand_in.js";
import { integrationConfig } from "../../support/test_services.js";

// With APPLICATIONINSIGHTS_CONNECTION_STRING set, through the local host and the real Azure Monitor
// exporter (delivering to a loopback ingestion endpoint), plus an in-memory exporter to read the spans.
const exporter = new InMemorySpanExporter();
const lines: string[] = [];
const model: ChatModel = {
  provider: "ollama",
  model: "stand-in-model",
  complete: async () => ({ content: "hello there", toolCalls: [] }),
  stream: async function* () {
    yield { type: "done", response: { content: "hello there", toolCalls: [] } };
  },
  ping: async () => {},
};
let ingestion: Awaited<ReturnType<typeof startIngestionStandIn>>;
let telemetry: Telemetry;
let services: Services;
let host: LocalHost;
const siteName = "codexcontinue-telemetry-test";

beforeAll(async () => {
  // Statsbeat would report to Microsoft's own endpoints, which this machine cannot reach: the first
  // setting turns off its optional part, the second (the exporter's older name) the rest.
  process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = "true";
  process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = "true";
  // The ingestion stand-in's certificate is self-signed; this test file runs in a process of its own.
  process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  // What the platform sets on a Flex Consumption instance, from which telemetry takes its cloud role.
  process.env.WEBSITE_SITE_NAME = siteName;
  process.env.WEBSITE_SKU = "FlexConsumption";
  ingestion = await startIngestionStandIn();
  const config = integrationConfig({
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    LOG_LEVEL: "debug",
    // The agent's runs wait for an approver (the one local caller of AUTH_MODE=none decides them): the spans of a request and a decision.
    PLUGIN_POLICY: '{"agent":{"channels":["execute","chat"],"approval":{"roles":["admin"]}}}',
  });
  telemetry = startTelemetry(config.telemetry, { spanProcessors: [new SimpleSpanProcessor(exporter)], sampleEverything: true });
  const logger = createLogger("debug", (_level, line) => lines.push(line));
  services = createServices(config, { plugins: pluginClasses, storage: config.storage, logger, chatModel: model });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await services?.close();
  await telemetry?.shutdown();
  await ingestion?.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  exporter.reset();
  const response = await fetch(`${host.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
const one = (name: string): ReadableSpan => {
  const spans = named(name);
  expect(
    spans.map((s) => s.name),
    `one span named ${name} among ${exporter
      .getFinishedSpans()
      .map((s) => s.name)
      .join(", ")}`,
  ).toEqual([name]);
  return spans[0]!;
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("telemetry with APPLICATIONINSIGHTS_CONNECTION_STRING set", () => {
  it("is started", () => {
    expect(telemetry.enabled).toBe(true);
  });

  it("traces a request as a SERVER span continuing the caller's traceparent, with its plugin run as a child span", async () => {
    const traceId = randomUUID().replace(/-/g, "");
    const callerSpanId = "00f067aa0ba902b7";
    // An expression no other test computes: calculator results are cached in the shared Redis.
    const expression = `${Math.floor(Math.random() * 1e9)}+1`;
    const result = await post("/api/plugins/execute", { plugin: "calculator", data: { expression } }, { traceparent: `00-${traceId}-${callerSpanId}-01` });
    expect(result.status).toBe(200);

    const request = one("POST /api/plugins/execute");
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.spanContext().traceId).toBe(traceId);
    expect(parentOf(request)).toBe(callerSpanId);
    expect(request.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/plugins/execute",
      "http.response.status_code": 200,
      "faas.invocation_id": expect.stringMatching(/^[0-9a-f-]{36}$/),
    });

    const run = one("plugin calculator");
    expect(run.kind).toBe(SpanKind.INTERNAL);
    expect(run.spanContext().traceId).toBe(traceId);
    expect(parentOf(run)).toBe(request.spanContext().spanId);
    expect(run.attributes).toMatchObject({
      "plugin.name": "calculator",
      "plugin.channel": "execute",
      "plugin.outcome": "success",
      "plugin.cached": false,
      "plugin.run_id": result.body.runId,
      "plugin.duration_ms": expect.any(Number),
    });
  });

  it("records a refused run's error code as its outcome, and a 4xx on the request span", async () => {
    const result = await post("/api/plugins/execute", { plugin: "calculator", data: { expression: 42 } });
    expect(result.status).toBe(400);
    expect(one("POST /api/plugins/execute").attributes["http.response.status_code"]).toBe(400);
    const run = one("plugin calculator");
    expect(run.attributes["plugin.outcome"]).toBe("invalid_input");
    expect(run.status.code).toBe(SpanStatusCode.ERROR);
  });

  it("marks a run that waits for an approver on its span, and traces a decision with its outcome", async () => {
    const requested = await post("/api/plugins/execute", { plugin: "agent", data: { instruction: "later" } });
    expect(requested.status).toBe(202);
    expect(one("plugin agent").attributes).toMatchObject({
      "plugin.outcome": "awaiting_approval",
      "plugin.run_id": requested.body.runId,
      "approval.expires_at": requested.body.expiresAt,
    });

    const decided = await post(`/api/approvals/${requested.body.runId}`, { decision: "deny", reason: "not now" });
    expect(decided.status).toBe(200);
    const decision = one("approval agent");
    expect(parentOf(decision)).toBe(one("POST /api/approvals/{runId}").spanContext().spanId);
    expect(decision.attributes).toEqual({
      "plugin.name": "agent",
      "plugin.run_id": requested.body.runId,
      "approval.decision": "deny",
      "approval.outcome": "denied",
    });

    expect((await post(`/api/approvals/${requested.body.runId}`, { decision: "approve" })).status).toBe(409);
    expect(one("approval agent").attributes).toMatchObject({ "approval.decision": "approve", "approval.outcome": "approval_closed" });
  });

  it("traces Table and Redis calls as CLIENT spans under the request, naming no key or session", async () => {
    const sessionId = `telemetry-${randomUUID()}`;
    const result = await post("/api/chat", { message: "/run echo a secret message", sessionId });
    expect(result.status).toBe(200);
    const request = one("POST /api/chat");
    // The turn's entries go as one transaction: one storage call.
    const table = named("Table submitTransaction");
    expect(table).toHaveLength(1);
    for (const span of table) {
      expect(span.kind).toBe(SpanKind.CLIENT);
      expect(span.spanContext().traceId).toBe(request.spanContext().traceId);
      expect(span.attributes).toMatchObject({ "db.system": "Azure table", "db.operation": "submitTransaction", "db.name": expect.stringMatching(/^audit/) });
      expect(span.attributes["server.address"]).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    const redis = named("redis MULTI");
    expect(redis.length).toBeGreaterThan(0);
    expect(redis[0]!.kind).toBe(SpanKind.CLIENT);
    expect(redis[0]!.attributes).toMatchObject({ "db.system": "redis", "db.operation": "MULTI" });
    const everything = JSON.stringify(exporter.getFinishedSpans().map((span) => [span.name, span.attributes]));
    expect(everything).not.toContain(sessionId);
    expect(everything).not.toContain("a secret message");
  });

  it("traces a model call as a CLIENT span with the provider, model and tool count, and never the prompt", async () => {
    const result = await post("/api/chat", { message: "say hello, privately" });
    expect(result.status).toBe(200);
    const call = one("chat stand-in-model");
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(parentOf(call)).toBe(one("POST /api/chat").spanContext().spanId);
    expect(call.attributes).toMatchObject({
      "gen_ai.system": "ollama",
      "gen_ai.request.model": "stand-in-model",
      "gen_ai.request.tool_count": expect.any(Number),
      "gen_ai.response.tool_call_count": 0,
      "llm.outcome": "success",
    });
    expect(JSON.stringify(call.attributes)).not.toContain("privately");
  });

  it("puts the timestamp, trace id and span id of the active request on a log line", async () => {
    lines.length = 0;
    const result = await post("/api/plugins/execute", { plugin: "no-such-plugin", data: {} });
    expect(result.status).toBe(404);
    const request = one("POST /api/plugins/execute");
    const line = lines.find((l) => l.includes("request failed"));
    expect(line).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z \[debug\] request failed /);
    expect(JSON.parse(line!.slice(line!.indexOf("{")))).toMatchObject({
      invocationId: request.attributes["faas.invocation_id"],
      traceId: request.spanContext().traceId,
      spanId: request.spanContext().spanId,
    });
    expect(one("plugin (unknown)").attributes["plugin.outcome"]).toBe("plugin_not_found");
  });

  it("exports the request, its plugin run and the log records to Application Insights' ingestion endpoint", async () => {
    const result = await post("/api/plugins/execute", { plugin: "calculator", data: { expression: "6*7" } });
    expect(result.status).toBe(200);
    const traceId = one("plugin calculator").spanContext().traceId;
    await telemetry.shutdown();
    const inTrace = ingestion.envelopes.filter((e: Envelope) => e.tags?.["ai.operation.id"] === traceId);
    const request = inTrace.find((e) => e.data?.baseType === "RequestData");
    const run = inTrace.find((e) => e.data?.baseType === "RemoteDependencyData" && e.data.baseData?.name === "plugin calculator");
    expect(request?.data?.baseData).toMatchObject({ name: "POST /api/plugins/execute", responseCode: "200", success: true });
    expect(run?.data?.baseData?.properties).toMatchObject({ "plugin.name": "calculator", "plugin.channel": "execute", "plugin.outcome": "success" });
    expect(run?.tags?.["ai.operation.parentId"]).toBe(request?.data?.baseData?.id);
    // Log records of the process reached Application Insights as traces (MessageData).
    const messages = ingestion.envelopes.filter((e) => e.data?.baseType === "MessageData");
    expect(messages.length).toBeGreaterThan(0);
    // The function app's name is the cloud role (the application map's node), the host name its instance, on every item.
    for (const envelope of [request, run, messages[0]]) {
      expect(envelope?.tags).toMatchObject({ "ai.cloud.role": siteName, "ai.cloud.roleInstance": hostname() });
    }
  });
});
