import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";
import { processesWith, sleepMarker, waitFor } from "../support/processes.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * A client that goes away stops the work done for it: the local host's per-request abort signal
 * reaches the plugin run, over real sockets. The shell plugin's `sleep` shows it: its process is
 * killed when the run's signal aborts, and would otherwise live until the plugin's 60 s limit; the
 * model stand-in shows the model call given up (its request's connection closed).
 */

let services: Services;
let host: LocalHost;
const llm = useLlmStandIn();

beforeAll(async () => {
  services = integrationServices({
    config: integrationConfig({
      SHELL_PLUGIN_ALLOWED_COMMANDS: "sleep",
      SHELL_PLUGIN_TIMEOUT_MS: "60000",
      OLLAMA_BASE_URL: llm.url,
      LLM_MAX_RETRIES: "0",
    }),
  });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host.close();
  await services.close();
});

/** Sends the POST, waits until the work has started, then disconnects 200 ms later; resolves with the time it disconnected. */
async function postAndLeave(path: string, body: unknown, started: () => boolean): Promise<number> {
  const payload = JSON.stringify(body);
  const req = httpRequest({
    host: "127.0.0.1",
    port: host.port,
    method: "POST",
    path,
    agent: false,
    headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
  });
  let answered = false;
  req.on("response", () => (answered = true));
  req.on("error", () => {});
  req.end(payload);
  await waitFor(started, 10_000);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(answered).toBe(false);
  req.destroy();
  return Date.now();
}

describe("a client that disconnects", () => {
  it("stops its plugin run: POST /api/plugins/execute of a 30 s sleep, left after 200 ms, ends the sleep within a second", async () => {
    const marker = sleepMarker();
    const leftAt = await postAndLeave(
      "/api/plugins/execute",
      { plugin: "shell", data: { command: `sleep ${marker}` } },
      () => processesWith(marker).length > 0,
    );
    await waitFor(() => processesWith(marker).length === 0, 1000);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });

  it("stops the run of its chat turn: POST /api/chat with /run shell sleep, left after 200 ms, ends the sleep within a second", async () => {
    const marker = sleepMarker();
    const leftAt = await postAndLeave(
      "/api/chat",
      { message: `/run shell sleep ${marker}`, sessionId: `abort-${Date.now()}` },
      () => processesWith(marker).length > 0,
    );
    await waitFor(() => processesWith(marker).length === 0, 1000);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });

  it("stops its model call: POST /api/chat of free text, the model's answer 10 s away, left after 200 ms, drops the model request within a second", async () => {
    llm.script(reply.delay(10_000));
    const leftAt = await postAndLeave("/api/chat", { message: "tell me a long story" }, () => llm.chatRequests.length > 0);
    await waitFor(() => llm.chatRequests[0]!.aborted, 1000);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });

  it("stops the model call of a streamed Responses request: POST /api/v1/responses, left before the first text, drops the model request within a second", async () => {
    llm.script(reply.delay(10_000));
    const leftAt = await postAndLeave(
      "/api/v1/responses",
      { model: "codexcontinue", input: "tell me a long story", stream: true },
      () => llm.chatRequests.length > 0,
    );
    await waitFor(() => llm.chatRequests[0]!.aborted, 1000);
    expect(Date.now() - leftAt).toBeLessThan(1000);
  });

  it("does not stop a run whose client stays: the same sleep, answered in full", async () => {
    const response = await fetch(`${host.url}/api/plugins/execute`, {
      method: "POST",
      body: JSON.stringify({ plugin: "shell", data: { command: "sleep 0.3" } }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "success", result: { exitCode: 0 } });
  });
});
