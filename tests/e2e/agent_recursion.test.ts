import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiAnswer } from "../support/api_client.js";
import { startJwtHost, type JwtHost } from "../support/jwt_host.js";
import { reply, useLlmStandIn, type RecordedLlmRequest } from "../support/llm_stand_in.js";

/**
 * A model that asks for the `agent` plugin at the start of every conversation (each agent run
 * starts a conversation of its own), against AUTH_MODE=jwt over real HTTP: the chat turn ends at
 * once with a few model calls, and another principal's agent runs are not held up meanwhile.
 */
const llm = useLlmStandIn();
const maxToolSteps = 3;
type Who = "alice" | "bob";
const hosts: Record<"byDefault" | "agentOnLlm", JwtHost<Who>> = {} as never;

beforeAll(async () => {
  const model = { OLLAMA_BASE_URL: llm.url, LLM_MAX_RETRIES: "0", CHAT_MAX_TOOL_STEPS: String(maxToolSteps) };
  hosts.byDefault = await startJwtHost({ alice: [], bob: [] }, model);
  // The operator's choice: the agent on every channel, the model's tool calls included.
  hosts.agentOnLlm = await startJwtHost({ alice: [], bob: [] }, { ...model, PLUGIN_POLICY: '{"agent":{"channels":["execute","chat","llm","queue","mcp"]}}' });
  // Warm: the issuer's keys fetched, the audit table created; what the tests time is the turn.
  for (const app of Object.values(hosts))
    for (const who of ["alice", "bob"] as const) await app.call(who, "POST", "/api/chat", { body: { message: "/run echo warm" } });
});

afterAll(async () => {
  for (const app of Object.values(hosts)) await app?.close();
});

/** A chat message, given up after 10 s (the recursion this guards against held a turn for two minutes). */
function chat(host: keyof typeof hosts, who: Who, message: string): Promise<ApiAnswer & { ms: number }> {
  const started = performance.now();
  return hosts[host].call(who, "POST", "/api/chat", { body: { message }, signal: AbortSignal.timeout(10_000) }).then((answer) => ({
    ...answer,
    ms: performance.now() - started,
  }));
}

/** Calls `agent` whenever its conversation is not answering a tool result; answers the tool result in words. */
function asksForAgentAtEveryStart(): void {
  llm.answerEveryRequestWith((request) => {
    const last = request.messages.at(-1);
    if (last?.role === "tool") return reply.text(`the tool said: ${String(last.content).slice(0, 200)}`);
    return reply.toolCall("agent", { instruction: `again, for ${request.lastUserMessage ?? ""}`.slice(0, 200) });
  });
}

const offeredAgent = (request: RecordedLlmRequest) => request.toolNames.includes("agent");

describe("a model that keeps asking for the agent", () => {
  it("is never offered the agent: its call is answered as an unknown tool, the turn ends 200 at once, and another principal's /run agent answers meanwhile", async () => {
    asksForAgentAtEveryStart();
    const [alice, bob] = await Promise.all([chat("byDefault", "alice", "do something"), chat("byDefault", "bob", "/run agent hello")]);

    expect(alice.status).toBe(200);
    expect(alice.body).toMatchObject({ source: "llm", toolCalls: 1 });
    expect(alice.body.reply).toContain("plugin_not_found");
    expect(alice.body.reply).not.toMatch(/shell/);
    expect(alice.ms).toBeLessThan(3000);
    expect(bob.status).toBe(200);
    expect(bob.body).toMatchObject({ source: "plugin", plugin: "agent" });
    expect(bob.ms).toBeLessThan(3000);
    // Two model calls each: the call of `agent`, and the answer to its refusal.
    expect(llm.chatRequests).toHaveLength(4);
    expect(llm.chatRequests.filter(offeredAgent)).toEqual([]);
  });

  it("that never stops calling it is stopped by the step limit, without any run of the agent", async () => {
    llm.answerEveryRequestWith(reply.toolCall("agent", { instruction: "again" }));
    const alice = await chat("byDefault", "alice", "do something");
    expect(alice.status).toBe(502);
    expect(alice.body.error.code).toBe("llm_step_limit");
    expect(alice.ms).toBeLessThan(3000);
    expect(llm.chatRequests).toHaveLength(maxToolSteps + 1);
    const audit = await hosts.byDefault.call("alice", "GET", `/api/memory/audit/${alice.body.error.details.sessionId}`);
    const entries: { type: string; plugin?: string; outcome?: string }[] = audit.body.entries;
    expect(entries.filter((e) => e.type === "plugin_run")).toEqual([]);
    expect(entries.filter((e) => e.type === "tool_call").map((e) => e.outcome)).toEqual(Array(maxToolSteps).fill("plugin_not_found"));
  });

  it("with PLUGIN_POLICY offering the agent to the model, runs it once: the agent's own conversation is not offered it, and another principal is not held up", async () => {
    asksForAgentAtEveryStart();
    const [alice, bob] = await Promise.all([chat("agentOnLlm", "alice", "do something"), chat("agentOnLlm", "bob", "/run agent hello")]);

    expect(alice.status).toBe(200);
    expect(alice.body).toMatchObject({ source: "llm", toolCalls: 1 });
    expect(alice.ms).toBeLessThan(3000);
    expect(bob.status).toBe(200);
    expect(bob.ms).toBeLessThan(3000);
    // Alice: her turn (offered the agent), the agent's conversation (not offered it), its answer to the refusal, her turn's answer. Bob: two.
    expect(llm.chatRequests).toHaveLength(6);
    expect(llm.chatRequests.filter(offeredAgent)).toHaveLength(2);
    const audit = await hosts.agentOnLlm.call("alice", "GET", `/api/memory/audit/${alice.body.sessionId}`);
    const runs = audit.body.entries.filter((e: { type: string }) => e.type === "plugin_run");
    expect(runs).toMatchObject([{ plugin: "agent", outcome: "success" }]);
  });
});
