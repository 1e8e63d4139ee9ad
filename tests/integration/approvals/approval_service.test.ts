import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { ApprovalService } from "../../../src/approvals/approval_service.js";
import { TableApprovalIndex } from "../../../src/approvals/table_approval_index.js";
import { createCaller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import { createStorageClients } from "../../../src/azure/storage_clients.js";
import { AppError } from "../../../src/errors/app_error.js";
import { createLogger } from "../../../src/logging/logger.js";
import { PluginRegistry } from "../../../src/plugins/plugin_registry.js";
import type { RunQueue } from "../../../src/runs/run_record.js";
import { TableRunStore } from "../../../src/runs/table_run_store.js";
import { RecordingAuditLog } from "../../support/recording_audit_log.js";
import { TallyPlugin } from "../../support/tally_plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";
import { pluginEnvironment } from "../../support/plugin_context.js";

const noCredential = () => {
  throw new Error("no credential needed");
};
const storage = createStorageClients({ kind: "connectionString", connectionString: inject("storageConnectionString") }, noCredential);
const unique = () => randomUUID().replace(/-/g, "").slice(0, 16);
const olivia = createCaller("user", "olivia");
const admin = createCaller("user", "admin", ["admin"]);

/** A queue that refuses messages until told otherwise: the one fake here, of our own RunQueue interface. */
class SwitchableQueue implements RunQueue {
  failing = true;
  readonly sent: string[] = [];
  async send(messageText: string): Promise<void> {
    if (this.failing) throw new AppError("storage_unavailable", "the runs queue could not be written");
    this.sent.push(messageText);
  }
}

describe("ApprovalService (Azurite): an approval whose run cannot be queued", () => {
  const table = storage.table(`runs${unique()}`);
  const store = new TableRunStore(table);
  const index = new TableApprovalIndex(table);
  const queue = new SwitchableQueue();
  const audit = new RecordingAuditLog();
  const plugins = [new TallyPlugin()];
  const approvals = new ApprovalService({
    store,
    index,
    queue,
    audit,
    policy: PluginPolicy.create(plugins, { tally: { approval: { roles: ["admin"], ttlSeconds: 600 } } }, "jwt"),
    registry: new PluginRegistry(plugins, 1000),
    logger: createLogger("error"),
  });

  it("is not carried out: the request waits again, listed, the timeline says so, and a later approval runs it", async () => {
    const sessionId = `s-${unique()}`;
    const asked = await approvals.request({
      caller: olivia,
      runId: `r-${randomUUID()}`,
      plugin: "tally",
      input: { key: "k" },
      sessionId,
      channel: "execute",
      rule: { roles: ["admin"], ttlSeconds: 600 },
    });

    await expect(approvals.decide(admin, asked.runId, "approve", undefined)).rejects.toMatchObject({ code: "storage_unavailable" });
    expect((await store.get(olivia.principalKey, asked.runId))?.record.state).toBe("awaiting_approval");
    expect((await approvals.list(admin)).map((view) => view.runId)).toContain(asked.runId);
    const decisions = audit.entries.filter((entry) => entry.type === "approval_decided").map(({ outcome, approver }) => ({ outcome, approver }));
    expect(decisions).toEqual([
      { outcome: "approved", approver: "admin" },
      { outcome: "storage_unavailable", approver: "admin" },
    ]);

    queue.failing = false;
    expect(await approvals.decide(admin, asked.runId, "approve", undefined)).toMatchObject({ state: "approved" });
    expect(queue.sent).toHaveLength(1);
    expect((await approvals.list(admin)).map((view) => view.runId)).not.toContain(asked.runId);
  });
});

describe("ApprovalService (Azurite): a flood of requests", () => {
  const table = storage.table(`runs${unique()}`);
  const plugins = [new TallyPlugin(), new EchoPlugin(pluginEnvironment())];
  const approvals = new ApprovalService({
    store: new TableRunStore(table),
    index: new TableApprovalIndex(table),
    queue: new SwitchableQueue(),
    audit: new RecordingAuditLog(),
    policy: PluginPolicy.create(
      plugins,
      { tally: { approval: { roles: ["admin"], ttlSeconds: 600 } }, echo: { approval: { roles: ["reviewer"], ttlSeconds: 600 } } },
      "jwt",
    ),
    registry: new PluginRegistry(plugins, 1000),
    logger: createLogger("error"),
  });
  const mallory = createCaller("user", "mallory");
  const reviewer = createCaller("user", "reviewer", ["reviewer"]);
  const ask = (caller: typeof olivia, plugin: string, input: unknown, runId = `r-${randomUUID()}`) =>
    approvals.request({ caller, runId, plugin, input, sessionId: undefined, channel: "execute", rule: { roles: ["admin"], ttlSeconds: 600 } });

  it("hides neither another plugin's requests nor older ones from approvers, whatever run ids the flood chooses", { timeout: 60_000 }, async () => {
    const olderTally = await ask(olivia, "tally", { key: "first" });
    const echo = await ask(olivia, "echo", { text: "please" });
    // More requests than one list reads, with run ids that sort before every other.
    for (let i = 0; i < 1010; i += 10) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => ask(mallory, "tally", { key: `flood-${i + j}` }, `-${String(i + j).padStart(5, "0")}`)));
    }
    expect((await approvals.list(reviewer)).map((view) => view.runId)).toEqual([echo.runId]);
    const adminSees = (await approvals.list(admin)).map((view) => view.runId);
    expect(adminSees[0]).toBe(olderTally.runId);
    expect(adminSees).toHaveLength(100);
  });
});
