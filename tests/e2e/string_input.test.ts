import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions, queueFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { callApi, settledRun } from "../support/api_client.js";

/**
 * The original API's execute request, `{"plugin":"calculator","data":"2+3*4"}`: a string `data`
 * is read by the plugin exactly as `/run <plugin> <text>` reads text, on every path a run takes.
 */
let services: Services;
let host: LocalHost;
let queues: QueueHost;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig({ QUEUE_POLL_INTERVAL_MS: "50" }) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  queues = await startQueueHost({ functions: queueFunctions, services, retryDelaySeconds: 1 });
});

afterAll(async () => {
  await queues?.stop();
  await host?.close();
  await services?.close();
});

const call = (method: string, path: string, body?: unknown) => callApi(host.url, method, path, { body });

const settled = async (runId: string) => (await settledRun((path) => call("GET", path), runId)).body;

describe("a string as data", () => {
  it("is read as /run reads text: the calculator evaluates it, echo returns it", async () => {
    expect(await call("POST", "/api/plugins/execute", { plugin: "calculator", data: "2+3*4" })).toMatchObject({
      status: 200,
      body: { status: "success", plugin: "calculator", result: 14 },
    });
    expect((await call("POST", "/api/plugins/execute", { plugin: "echo", data: "hi" })).body).toMatchObject({ status: "success", result: "hi" });
    expect((await call("POST", "/api/plugins/execute", { plugin: "echo", data: '{"text":"as JSON"}' })).body.result).toBe("as JSON");
  });

  it("lets the memory plugin read its command words, in the caller's session", async () => {
    const sessionId = `strings-${Date.now()}`;
    expect((await call("POST", "/api/plugins/execute", { plugin: "memory", data: "note buy milk", sessionId })).body.result).toEqual({
      stored: true,
      note: "buy milk",
    });
    const found = await call("POST", "/api/plugins/execute", { plugin: "memory", data: "search milk", sessionId });
    expect(found.body.result.matches.map((m: any) => m.content)).toEqual(["buy milk"]);
  });

  it("answers text the plugin cannot read as 400 invalid_input, with where it went wrong", async () => {
    const result = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: "2+*3" });
    expect(result.status).toBe(400);
    expect(result.body.error.code).toBe("invalid_input");
    expect(result.body.error.details.position).toBe(2);
  });

  it("never gets a disabled plugin as far as its input: 403 plugin_disabled for any data, never 400", async () => {
    for (const data of ["echo hello", "", "{not json", { command: 42 }, 7]) {
      const result = await call("POST", "/api/plugins/execute", { plugin: "shell", data });
      expect(result.status, JSON.stringify(data)).toBe(403);
      expect(result.body.error.code).toBe("plugin_disabled");
    }
    const async = await call("POST", "/api/plugins/execute", { plugin: "shell", data: "echo hello", async: true });
    expect(async.status).toBe(403);
    expect(async.body.error.code).toBe("plugin_disabled");
  });

  it("works for an asynchronous run and for a queue message", async () => {
    const queued = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: "17*23", async: true });
    expect(queued.status).toBe(202);
    expect(await settled(queued.body.runId)).toMatchObject({ state: "succeeded", result: 391 });

    const runId = `queued-string-${Date.now()}`;
    const message = Buffer.from(JSON.stringify({ runId, plugin: "calculator", data: "6*7" })).toString("base64");
    await (await services.storageClients!()).queue(services.config.runs.queueName).sendMessage(message);
    expect(await settled(runId)).toMatchObject({ state: "succeeded", result: 42 });
  });

  it("is refused at submission when an asynchronous run's text is not valid input", async () => {
    const refused = await call("POST", "/api/plugins/execute", { plugin: "calculator", data: "", async: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "invalid_input", details: { plugin: "calculator" } });
  });
});
