import { randomUUID } from "node:crypto";
import type { QueueClient } from "@azure/storage-queue";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueFunctions } from "../../functions/index.js";
import { pluginClasses } from "../../plugins/index.js";
import { startQueueHost, type QueueHost } from "../../src/host/queue_host.js";
import type { ApiAnswer } from "../support/api_client.js";
import { startJwtHost, type JwtHost } from "../support/jwt_host.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";
import { SlowTallyPlugin, tallies, TallyPlugin } from "../support/tally_plugin.js";

/**
 * Runs that wait for an approver, end to end over real HTTP with AUTH_MODE=jwt (tokens of a test
 * issuer), real Redis and real Azurite (whose ETags decide the races), and the queue poller that
 * runs approved runs. The policy is the README's worked example (shell for the operator role,
 * approved by admin) plus `tally`, which counts its executions, asked for by anyone and approved
 * by admin, and `echo`, whose requests expire after a second.
 */
const admins = ["admin1", "admin2", "admin3", "admin4", "admin5", "admin6"] as const;
type Who = "olivia" | "oscar" | "outsider" | (typeof admins)[number];

const policy = {
  shell: { roles: ["operator"], channels: ["execute", "chat"], approval: { roles: ["admin"] } },
  tally: { approval: { roles: ["admin"], ttlSeconds: 120 } },
  slowtally: { approval: { roles: ["admin"], ttlSeconds: 120 } },
  echo: { approval: { roles: ["admin"], ttlSeconds: 1 } },
  memory: { approval: { roles: ["admin"] } },
};

const llm = useLlmStandIn();
let app: JwtHost<Who>;
let queues: QueueHost | undefined;
let queue: QueueClient;

beforeAll(async () => {
  app = await startJwtHost<Who>(
    {
      olivia: ["operator"],
      oscar: ["operator"],
      outsider: [],
      ...(Object.fromEntries(admins.map((name) => [name, ["admin"]])) as Record<(typeof admins)[number], string[]>),
    },
    {
      PLUGIN_POLICY: JSON.stringify(policy),
      SHELL_PLUGIN_ALLOWED_COMMANDS: "echo",
      QUEUE_POLL_INTERVAL_MS: "50",
      OLLAMA_BASE_URL: llm.url,
      LLM_MAX_RETRIES: "0",
    },
    { plugins: [...pluginClasses, TallyPlugin, SlowTallyPlugin] },
  );
  queue = (await app.services.storageClients!()).queue(app.services.config.runs.queueName);
  await queue.createIfNotExists();
  queues = await startQueueHost({ functions: queueFunctions, services: app.services, retryDelaySeconds: 1 });
});

afterAll(async () => {
  await queues?.stop();
  await app?.close();
});

/** olivia's session unless said otherwise: a request to run `tally` on `key`, over POST /api/plugins/execute. */
function requestTally(who: Who, key: string, options: { sessionId?: string; async?: boolean } = {}): Promise<ApiAnswer> {
  return app.call(who, "POST", "/api/plugins/execute", { body: { plugin: "tally", data: { key }, sessionId: options.sessionId, async: options.async } });
}

function decide(who: Who, runId: string, decision: "approve" | "deny", reason?: string): Promise<ApiAnswer> {
  return app.call(who, "POST", `/api/approvals/${runId}`, { body: reason === undefined ? { decision } : { decision, reason } });
}

/** GET /api/runs/{runId} as `who` until the run has ended (succeeded, failed, denied or expired). */
async function endedRun(who: Who, runId: string): Promise<any> {
  for (const deadline = Date.now() + 15_000; ; ) {
    const run = await app.call(who, "GET", `/api/runs/${runId}`);
    if (run.status === 200 && ["succeeded", "failed", "denied", "expired"].includes(run.body.state)) return run.body;
    if (Date.now() > deadline) throw new Error(`run ${runId} did not end: ${run.text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function timeline(who: Who, sessionId: string): Promise<any[]> {
  const page = await app.call(who, "GET", `/api/memory/audit/${sessionId}?limit=200`);
  expect(page.status).toBe(200);
  return page.body.entries;
}

async function listed(who: Who): Promise<string[]> {
  const list = await app.call(who, "GET", "/api/approvals");
  expect(list.status).toBe(200);
  return list.body.approvals.map((request: { runId: string }) => request.runId);
}

function expectError(answer: ApiAnswer, status: number, code: string) {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.body).toMatchObject({ status: "error", error: { code } });
}

describe("a plugin without an approval rule", () => {
  it("answers at once, for every caller", async () => {
    for (const who of ["olivia", "outsider"] as const) {
      const run = await app.call(who, "POST", "/api/plugins/execute", { body: { plugin: "calculator", data: { expression: "2+3*4" } } });
      expect(run.status).toBe(200);
      expect(run.body).toMatchObject({ status: "success", plugin: "calculator", result: 14 });
    }
  });
});

describe("the catalogue", () => {
  it("says which plugins' runs wait for an approver, to every caller who may run them", async () => {
    for (const who of ["olivia", "outsider", "admin1"] as const) {
      const list = await app.call(who, "GET", "/api/plugins");
      expect(list.status).toBe(200);
      const needsApproval = Object.fromEntries(
        list.body.plugins.map((plugin: { name: string; needsApproval: boolean }) => [plugin.name, plugin.needsApproval]),
      );
      expect(needsApproval).toMatchObject({ calculator: false, echo: true, tally: true, memory: true });
      // shell is the operator role's: listed (waiting for approval) to olivia only.
      expect(needsApproval.shell).toBe(who === "olivia" ? true : undefined);
    }
  });
});

describe("a request", () => {
  it("is refused 413 when its input or the message its approval would queue is too large, and nothing is recorded", async () => {
    // Over the record's 30,000 characters of JSON; then under them, but 51,000 bytes of UTF-8, whose base64 is over a queue message's 64 KiB.
    const cases = [
      { text: "a".repeat(30_001), detail: "maxInputChars" },
      { text: "€".repeat(17_000), detail: "maxMessageChars" },
    ];
    const pendingBefore = await listed("admin1");
    for (const { text, detail } of cases) {
      const answer = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "echo", data: { text } } });
      expectError(answer, 413, "payload_too_large");
      expect(answer.body.error.details).toHaveProperty(detail);
      const runId = randomUUID();
      const queued = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "echo", data: { text }, async: true, runId } });
      expectError(queued, 413, "payload_too_large");
      expect(queued.body.error.details).toHaveProperty(detail);
      expect((await app.call("olivia", "GET", `/api/runs/${runId}`)).status).toBe(404);
    }
    expect(await listed("admin1")).toEqual(pendingBefore);
  });

  it("answers 202 awaiting approval, sync and async alike, with the run id, the expiry and a Location; nothing runs", async () => {
    for (const async of [false, true]) {
      const key = randomUUID();
      const started = Date.now();
      const answer = await requestTally("olivia", key, { async });
      expect(answer.status).toBe(202);
      const runId = answer.body.runId as string;
      expect(answer.body).toEqual({
        status: "awaiting_approval",
        state: "awaiting_approval",
        runId,
        plugin: "tally",
        expiresAt: expect.any(String),
        location: `/api/runs/${runId}`,
      });
      expect(answer.headers.get("location")).toBe(`/api/runs/${runId}`);
      // The rule's time to live: 120 s.
      expect(Date.parse(answer.body.expiresAt) - started).toBeGreaterThan(115_000);
      expect(Date.parse(answer.body.expiresAt) - started).toBeLessThan(125_000);
      const run = await app.call("olivia", "GET", `/api/runs/${runId}`);
      expect(run.body).toMatchObject({
        runId,
        plugin: "tally",
        state: "awaiting_approval",
        channel: "execute",
        approval: { expiresAt: answer.body.expiresAt },
      });
      expect(tallies.get(key)).toBeUndefined();
    }
  });

  it("is listed to approvers with its plugin, validated input, requester, channel and times; the requester and an outsider cannot decide it", async () => {
    const key = randomUUID();
    const { runId } = (await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "tally", data: key } })).body;
    const list = await app.call("admin1", "GET", "/api/approvals");
    expect(list.status).toBe(200);
    expect(list.headers.get("cache-control")).toBe("no-store");
    expect(list.body.approvals).toContainEqual({
      runId,
      plugin: "tally",
      // Text read into the plugin's input, as it will run.
      input: { key },
      requester: "olivia-oid",
      channel: "execute",
      requestedAt: expect.any(String),
      expiresAt: expect.any(String),
    });

    for (const who of ["olivia", "outsider", "oscar"] as const) {
      expectError(await app.call(who, "GET", "/api/approvals"), 403, "approval_forbidden");
      expectError(await decide(who, runId, "approve"), 403, "approval_forbidden");
    }
    expect((await app.call("olivia", "GET", `/api/runs/${runId}`)).body.state).toBe("awaiting_approval");
    expect(tallies.get(key)).toBeUndefined();
  });

  it("of an approver needs another approver: it is not theirs to list or decide", async () => {
    const key = randomUUID();
    const { runId } = (await requestTally("admin1", key)).body;
    expect(await listed("admin1")).not.toContain(runId);
    expectError(await decide("admin1", runId, "approve"), 403, "approval_forbidden");
    expect(await listed("admin2")).toContain(runId);
    expect((await decide("admin2", runId, "approve")).status).toBe(200);
    expect(await endedRun("admin1", runId)).toMatchObject({ state: "succeeded", result: { key, count: 1 } });
  });

  it("answers 404 to a decision on a run id no request has, and 400 to a decision that is not one", async () => {
    expectError(await decide("admin1", `unknown-${randomUUID()}`, "approve"), 404, "run_not_found");
    // A run of olivia's that waited for nobody: no request.
    const run = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "calculator", data: { expression: "1+1" }, async: true } });
    expectError(await decide("admin1", run.body.runId, "approve"), 404, "run_not_found");
    const { runId } = (await requestTally("olivia", randomUUID())).body;
    expectError(await app.call("admin1", "POST", `/api/approvals/${runId}`, { body: { decision: "maybe" } }), 400, "invalid_request");
    expectError(await app.call("admin1", "POST", `/api/approvals/${runId}`, { body: { decision: "deny", reason: "x".repeat(1001) } }), 400, "invalid_request");
    expect((await app.call("olivia", "GET", `/api/runs/${runId}`)).body.state).toBe("awaiting_approval");
  });
});

describe("deciding", () => {
  it("six approvers at once: one 200 and five 409, round after round, and the run runs once", async () => {
    for (let round = 0; round < 5; round++) {
      const key = randomUUID();
      const { runId } = (await requestTally("olivia", key)).body;
      const answers = await Promise.all(admins.map((who, i) => decide(who, runId, i % 2 === 0 ? "approve" : "deny", `round ${round} by ${who}`)));
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses, answers.map((answer) => answer.text).join("\n")).toEqual([200, 409, 409, 409, 409, 409]);
      for (const lost of answers.filter((answer) => answer.status === 409)) expect(lost.body.error.code).toBe("approval_closed");
      const won = answers.find((answer) => answer.status === 200)!;
      const run = await endedRun("olivia", runId);
      expect(run.approval).toMatchObject({ decidedBy: won.body.decidedBy, reason: won.body.reason });
      if (won.body.state === "approved") {
        expect(run).toMatchObject({ state: "succeeded", result: { key, count: 1 } });
        expect(tallies.get(key)).toBe(1);
      } else {
        expect(run.state).toBe("denied");
        expect(tallies.get(key)).toBeUndefined();
      }
    }
  });

  it("approve: the run succeeds once, with its output, as its requester, even when its message is delivered twice", async () => {
    const key = randomUUID();
    const sessionId = `approve-${randomUUID()}`;
    const { runId } = (await requestTally("olivia", key, { sessionId })).body;
    // The poller stopped: the approval's message waits on the queue, and is sent a second time.
    await queues!.stop();
    let text: string;
    try {
      const decided = await decide("admin3", runId, "approve", "looks fine");
      expect(decided.status).toBe(200);
      expect(decided.body).toEqual({ runId, plugin: "tally", state: "approved", decidedBy: "admin3-oid", decidedAt: expect.any(String), reason: "looks fine" });
      const { peekedMessageItems } = await queue.peekMessages({ numberOfMessages: 32 });
      const messages = peekedMessageItems.filter((item) => Buffer.from(item.messageText, "base64").toString("utf8").includes(runId));
      expect(messages).toHaveLength(1);
      text = messages[0]!.messageText;
      await queue.sendMessage(text);
    } finally {
      queues = await startQueueHost({ functions: queueFunctions, services: app.services, retryDelaySeconds: 1 });
    }
    const run = await endedRun("olivia", runId);
    expect(run).toMatchObject({ runId, plugin: "tally", state: "succeeded", channel: "execute", result: { key, count: 1 }, attempts: 1 });
    expect(run.approval).toMatchObject({ decidedBy: "admin3-oid", reason: "looks fine" });
    // Both deliveries are done with (the second found the run claimed, then finished), and the plugin ran once.
    for (const deadline = Date.now() + 15_000; (await queue.getProperties()).approximateMessagesCount !== 0; ) {
      if (Date.now() > deadline) throw new Error("the queue did not drain");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(tallies.get(key)).toBe(1);
    expectError(await decide("admin4", runId, "deny"), 409, "approval_closed");
    expect(await listed("admin4")).not.toContain(runId);

    // The requester's timeline: the request, the decision (approver, reason), the outcome.
    const entries = (await timeline("olivia", sessionId)).filter((entry) => entry.runId === runId);
    expect(entries.map((entry) => entry.type)).toEqual(["approval_requested", "approval_decided", "plugin_run"]);
    expect(entries[0]).toMatchObject({ plugin: "tally", input: { key }, outcome: "awaiting_approval", expiresAt: expect.any(String) });
    expect(entries[1]).toMatchObject({ plugin: "tally", outcome: "approved", approver: "admin3-oid", reason: "looks fine" });
    expect(entries[2]).toMatchObject({ plugin: "tally", outcome: "success", result: { key, count: 1 } });
  });

  it("approve: a run that fails where a queued run would be delivered again (a timeout) ends failed, started once, without a new approval", async () => {
    const key = randomUUID();
    const asked = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "slowtally", data: { key } } });
    expect(asked.status, asked.text).toBe(202);
    expect((await decide("admin1", asked.body.runId, "approve")).status).toBe(200);
    const run = await endedRun("olivia", asked.body.runId);
    expect(run).toMatchObject({ state: "failed", attempts: 1, error: { code: "plugin_timeout" } });
    expect(run.error.message).toMatch(/an approved run is not started again/);
    // Redeliveries come a second apart here: had one been taken, it would have started by now.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(tallies.get(key)).toBe(1);
    expect((await app.call("olivia", "GET", `/api/runs/${asked.body.runId}`)).body).toMatchObject({ state: "failed", attempts: 1 });
  });

  it("deny: the run is denied with the reason, nothing ran, and it cannot be decided again", async () => {
    const key = randomUUID();
    const sessionId = `deny-${randomUUID()}`;
    const { runId } = (await requestTally("olivia", key, { sessionId })).body;
    const denied = await decide("admin2", runId, "deny", "not during the freeze");
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({ runId, state: "denied", decidedBy: "admin2-oid", reason: "not during the freeze" });
    const run = await endedRun("olivia", runId);
    expect(run).toMatchObject({ state: "denied", approval: { decidedBy: "admin2-oid", reason: "not during the freeze" } });
    expect(run).not.toHaveProperty("result");
    expectError(await decide("admin3", runId, "approve"), 409, "approval_closed");
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(tallies.get(key)).toBeUndefined();
    const entries = (await timeline("olivia", sessionId)).filter((entry) => entry.runId === runId);
    expect(entries.map((entry) => [entry.type, entry.outcome])).toEqual([
      ["approval_requested", "awaiting_approval"],
      ["approval_decided", "denied"],
    ]);
    expect(entries[1]).toMatchObject({ approver: "admin2-oid", reason: "not during the freeze" });
  });

  it("expiry: a request nobody decides in time is expired, and then answers 409", async () => {
    const sessionId = `expire-${randomUUID()}`;
    const answer = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "echo", data: { text: "late" }, sessionId } });
    expect(answer.status).toBe(202);
    const { runId, expiresAt } = answer.body;
    expect(await listed("admin1")).toContain(runId);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(expiresAt) - Date.now()) + 100));
    expect(await listed("admin1")).not.toContain(runId);
    expect(await endedRun("olivia", runId)).toMatchObject({ state: "expired", approval: { expiresAt } });
    const late = await decide("admin1", runId, "approve");
    expectError(late, 409, "approval_closed");
    expect(late.body.error.details).toMatchObject({ runId, state: "expired" });
    const entries = (await timeline("olivia", sessionId)).filter((entry) => entry.runId === runId);
    expect(entries.map((entry) => [entry.type, entry.outcome])).toEqual([
      ["approval_requested", "awaiting_approval"],
      ["approval_decided", "expired"],
    ]);
  });
});

describe("on every channel", () => {
  it("chat /run says the run awaits approval, with its run id, and a server-sent event says so when streamed", async () => {
    const key = randomUUID();
    const answer = await app.call("olivia", "POST", "/api/chat", { body: { message: `/run tally ${key}` } });
    expect(answer.status).toBe(200);
    const runId = answer.body.runId as string;
    expect(answer.body).toMatchObject({
      source: "plugin",
      plugin: "tally",
      runId,
      approval: { state: "awaiting_approval", runId, plugin: "tally", location: `/api/runs/${runId}` },
    });
    expect(answer.body.reply).toContain(runId);
    expect(answer.body.reply).toMatch(/awaits an approver/);
    expect((await app.call("olivia", "GET", `/api/runs/${runId}`)).body).toMatchObject({ state: "awaiting_approval", channel: "chat" });

    const streamed = await app.call("olivia", "POST", "/api/chat", { body: { message: `/run tally ${key}`, stream: true } });
    const events = streamed.text
      .split("\n\n")
      .filter(Boolean)
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: JSON.parse(/^data: (.*)$/m.exec(block)![1]!) }));
    expect(events.map((event) => event.event)).toEqual(["session", "awaiting_approval", "reply"]);
    expect(events[1]!.data).toMatchObject({ state: "awaiting_approval", plugin: "tally", runId: events[2]!.data.reply.runId });

    expect((await decide("admin1", runId, "approve")).status).toBe(200);
    expect(await endedRun("olivia", runId)).toMatchObject({ state: "succeeded", channel: "chat", result: { key, count: 1 } });
  });

  it("a model's tool call gets a tool result saying so, and the turn goes on", async () => {
    const key = randomUUID();
    llm.script(
      reply.toolCall("tally", { key }),
      reply.compute((request) => reply.text(`asked: ${request.toolResults[0]?.content}`)),
    );
    const answer = await app.call("olivia", "POST", "/api/chat", { body: { message: "count this for me" } });
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ source: "llm", toolCalls: 1 });
    const told = JSON.parse(llm.chatRequests.at(-1)!.toolResults[0]!.content as string);
    expect(told).toMatchObject({ state: "awaiting_approval", plugin: "tally", runId: expect.any(String), location: expect.stringMatching(/^\/api\/runs\//) });
    expect(answer.body.reply).toContain(told.runId);
    expect((await app.call("olivia", "GET", `/api/runs/${told.runId}`)).body).toMatchObject({ state: "awaiting_approval", channel: "llm" });
    expect(tallies.get(key)).toBeUndefined();
  });

  it("an MCP tool call gets a result, not an error, saying so with the run id", async () => {
    const key = randomUUID();
    const client = new Client({ name: "approvals-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.host.url}/api/mcp`), { requestInit: { headers: { authorization: `Bearer ${app.token("olivia")}` } } }),
    );
    try {
      const result: any = await client.callTool({ name: "tally", arguments: { key } });
      expect(result.isError).toBeFalsy();
      const runId = result.structuredContent.runId as string;
      expect(result.structuredContent).toMatchObject({ state: "awaiting_approval", plugin: "tally", runId, location: `/api/runs/${runId}` });
      expect(result.content[0].text).toContain(runId);
      expect((await decide("admin5", runId, "approve")).status).toBe(200);
      expect(await endedRun("olivia", runId)).toMatchObject({ state: "succeeded", channel: "mcp", result: { key, count: 1 } });
    } finally {
      await client.close();
    }
  });

  it("an MCP tool call of a plugin whose results have an output schema also gets the request, not an output validation error", async () => {
    const client = new Client({ name: "approvals-test", version: "1.0.0" });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${app.host.url}/api/mcp`), { requestInit: { headers: { authorization: `Bearer ${app.token("olivia")}` } } }),
    );
    try {
      // Its results may be a request instead of the plugin's own shape, so the tool declares no output schema.
      const { tools } = await client.listTools();
      expect(tools.find((tool) => tool.name === "memory")).not.toHaveProperty("outputSchema");
      const result: any = await client.callTool({ name: "memory", arguments: { action: "list" } });
      expect(result.isError, JSON.stringify(result)).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ state: "awaiting_approval", plugin: "memory", runId: expect.any(String) });
    } finally {
      await client.close();
    }
  });

  it("a queue message's run waits the same way, and runs once approved", async () => {
    const key = randomUUID();
    const runId = `queued-${randomUUID()}`;
    await queue.sendMessage(JSON.stringify({ runId, plugin: "tally", data: { key } }));
    let request: any;
    for (const deadline = Date.now() + 15_000; !request; ) {
      const list = await app.call("admin6", "GET", "/api/approvals");
      request = list.body.approvals.find((entry: { runId: string }) => entry.runId === runId);
      if (Date.now() > deadline) throw new Error("the queue message's request was not listed");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(request).toMatchObject({ plugin: "tally", input: { key }, requester: "queue", channel: "queue" });
    expect(tallies.get(key)).toBeUndefined();
    expect((await decide("admin6", runId, "approve")).status).toBe(200);
    // Runs of the queue principal are read by admins.
    expect(await endedRun("admin6", runId)).toMatchObject({ state: "succeeded", channel: "queue", result: { key, count: 1 } });
    expect(tallies.get(key)).toBe(1);
  });

  it("the README's example: shell for the operator role, approved by admin", async () => {
    expectError(
      await app.call("outsider", "POST", "/api/plugins/execute", { body: { plugin: "shell", data: { command: "echo hi" } } }),
      404,
      "plugin_not_found",
    );
    const asked = await app.call("olivia", "POST", "/api/plugins/execute", { body: { plugin: "shell", data: { command: "echo approved" } } });
    expect(asked.status).toBe(202);
    expect((await decide("admin1", asked.body.runId, "approve")).status).toBe(200);
    const run = await endedRun("olivia", asked.body.runId);
    expect(run).toMatchObject({ state: "succeeded", result: { command: "echo approved", exitCode: 0, stdout: "approved\n" } });
  });
});

describe("another principal", () => {
  it("sees none of it: not the run, not the timeline, not the list", async () => {
    const key = randomUUID();
    const sessionId = `private-${randomUUID()}`;
    const { runId } = (await requestTally("olivia", key, { sessionId })).body;
    expect((await timeline("olivia", sessionId)).length).toBeGreaterThan(0);
    for (const who of ["oscar", "outsider", "admin1"] as const) {
      expectError(await app.call(who, "GET", `/api/runs/${runId}`), 404, "run_not_found");
      expect(await timeline(who, sessionId)).toEqual([]);
    }
    for (const who of ["oscar", "outsider"] as const) expectError(await app.call(who, "GET", "/api/approvals"), 403, "approval_forbidden");
    // An approver lists it (that is the point), and still cannot read the run or the session.
    expect(await listed("admin1")).toContain(runId);
  });
});
