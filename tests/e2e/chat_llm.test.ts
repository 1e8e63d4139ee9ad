import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { localCaller } from "../../src/auth/caller.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import { sessionRef } from "../../src/memory/session_ref.js";
import type { Services } from "../../src/services.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";
import { healthReportTtlMs } from "../../src/health/health_check.js";

const llm = useLlmStandIn();
const hosts: Record<"ollama" | "azure", { services: Services; host: LocalHost }> = {} as never;

beforeAll(async () => {
  const settings = {
    ollama: { OLLAMA_BASE_URL: llm.url, OLLAMA_MODEL: "llama3.1", LLM_MAX_RETRIES: "0" },
    azure: { AZURE_OPENAI_ENDPOINT: llm.url, AZURE_OPENAI_DEPLOYMENT: "gpt-4o-mini", AZURE_OPENAI_API_KEY: "local-key-123", LLM_MAX_RETRIES: "0" },
  };
  for (const provider of ["ollama", "azure"] as const) {
    const services = integrationServices({ config: integrationConfig(settings[provider]) });
    hosts[provider] = { services, host: await startLocalHost({ functions: httpFunctions, services, port: 0 }) };
  }
});

afterAll(async () => {
  for (const { host, services } of Object.values(hosts)) {
    await host.close();
    await services.close();
  }
});

async function post(provider: "ollama" | "azure", body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${hosts[provider].host.url}/api/chat`, { method: "POST", body: JSON.stringify(body), headers });
}

/** Reads a text/event-stream body into its events, as a browser's EventSource would. */
async function serverSentEvents(response: Response): Promise<{ event: string; data: any }[]> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const fields = Object.fromEntries(block.split("\n").map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]));
      return { event: String(fields.event), data: JSON.parse(String(fields.data)) };
    });
}

describe.each(["ollama", "azure"] as const)("chat through %s", (provider) => {
  it("answers 'What is 17*23? Use the calculator.' with 391 from a calculator call, and the audit timeline shows it", async () => {
    llm.script(reply.toolCall("calculator", { expression: "17*23" }), (request) => reply.text(`17 × 23 = ${request.toolResults[0]?.content}`));
    const response = await post(provider, { message: "What is 17*23? Use the calculator." });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as any;
    expect(answer).toMatchObject({ reply: "17 × 23 = 391", source: "llm", toolCalls: 1 });
    if (provider === "azure") {
      expect(llm.chatRequests[0]).toMatchObject({ deployment: "gpt-4o-mini", apiKey: "local-key-123" });
    }

    const audit = (await (await fetch(`${hosts[provider].host.url}/api/memory/audit/${answer.sessionId}`)).json()) as any;
    expect(audit.entries.map((e: any) => e.type)).toEqual(["user_message", "tool_call", "plugin_run", "reply"]);
    expect(audit.entries[1]).toMatchObject({ plugin: "calculator", input: { expression: "17*23" } });
    expect(audit.entries[2]).toMatchObject({ plugin: "calculator", result: 391, outcome: "success" });
    expect(audit.entries[3]).toMatchObject({ content: "17 × 23 = 391", source: "llm" });
  });

  it("streams the reply token by token over HTTP as server-sent events, with the tool call as events", async () => {
    llm.script(reply.toolCall("calculator", { expression: "2+2" }), reply.text("The answer is 4.", { chunks: ["The ", "answer ", "is ", "4."] }));
    const response = await post(provider, { message: "2+2?", stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = await serverSentEvents(response);
    expect(events.map((e) => e.event)).toEqual(["session", "tool_call", "tool_result", "token", "token", "token", "token", "reply"]);
    expect(events.filter((e) => e.event === "token").map((e) => e.data.text)).toEqual(["The ", "answer ", "is ", "4."]);
    expect(events[1]!.data).toMatchObject({ name: "calculator", arguments: { expression: "2+2" } });
    expect(events[2]!.data).toMatchObject({ name: "calculator", outcome: "success", result: 4 });
    const final = events.at(-1)!.data.reply;
    expect(final).toMatchObject({ sessionId: events[0]!.data.sessionId, reply: "The answer is 4.", source: "llm" });
    // Stored whole once complete, in the session of the local caller (every caller of AUTH_MODE=none).
    const memory = await hosts[provider].services.memory.recent(sessionRef(localCaller, final.sessionId));
    expect(memory.at(-1)).toMatchObject({ role: "assistant", content: "The answer is 4." });
  });

  it("streams when the client asks with Accept: text/event-stream", async () => {
    llm.script(reply.text("hi there"));
    const response = await post(provider, { message: "hello" }, { accept: "text/event-stream" });
    const events = await serverSentEvents(response);
    expect(events.at(-1)).toMatchObject({ event: "reply", data: { reply: { reply: "hi there" } } });
  });

  it("ends a stream that fails after it started with an error event, and keeps the message audited", async () => {
    llm.script(reply.text("a partial answer that", { chunks: ["a ", "partial ", "answer ", "that"], dropAfterChunks: 2 }));
    const response = await post(provider, { message: "tell me", stream: true });
    const events = await serverSentEvents(response);
    expect(events.at(-1)).toMatchObject({ event: "error", data: { status: "error", error: { code: "llm_unavailable" } } });
    const sessionId = events[0]!.data.sessionId;
    const audit = (await (await fetch(`${hosts[provider].host.url}/api/memory/audit/${sessionId}`)).json()) as any;
    expect(audit.entries.map((e: any) => [e.type, e.outcome])).toEqual([
      ["user_message", undefined],
      ["reply", "llm_unavailable"],
    ]);
  });

  it("answers 503 llm_unavailable when the model fails before anything was said", async () => {
    llm.answerEveryRequestWith(reply.serverError());
    const response = await post(provider, { message: "anyone?" });
    expect(response.status).toBe(503);
    const body = (await response.json()) as any;
    expect(body.error).toMatchObject({ code: "llm_unavailable", details: { sessionId: expect.any(String) } });
    expect(JSON.stringify(body)).not.toContain(llm.url);
  });
});

describe("health with a language model", () => {
  it("reports the model, and only degrades when it is down", async () => {
    const ok = (await (await fetch(`${hosts.ollama.host.url}/api/health`)).json()) as any;
    expect(ok).toMatchObject({ status: "ok", checks: { llm: { status: "ok", provider: "ollama", model: "llama3.1" } } });
    llm.scriptPing(reply.serverError());
    // Health answers from one probe per TTL; the next one sees the model down.
    await new Promise((resolve) => setTimeout(resolve, healthReportTtlMs + 50));
    const response = await fetch(`${hosts.ollama.host.url}/api/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "degraded", checks: { llm: { status: "down" }, redis: { status: "ok" } } });
  });
});
