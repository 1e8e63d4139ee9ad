import { afterEach, beforeEach, describe, it, expect } from "vitest";
import type { AuditEntry, AuditEvent, AuditLog, AuditPage } from "../../../src/audit/audit_event.js";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { runCli, usage } from "../../../src/cli/cli.js";
import { loadConfig } from "../../../src/config/config.js";
import { silentLogger } from "../../../src/logging/logger.js";
import { sessionStorageKey, sessionRef, type SessionRef } from "../../../src/memory/session_ref.js";
import { createServices, type Services } from "../../../src/services.js";
import { pluginClasses, pluginNames } from "../../../plugins/index.js";

/** An audit log in memory, standing in for Table Storage (ServiceOptions.audit). */
class MemoryAuditLog implements AuditLog {
  readonly entries: AuditEntry[] = [];
  /** The session each entry was written to, `<principalKey>:<sessionId>`, by index. */
  readonly sessions: string[] = [];
  async append(session: SessionRef, event: AuditEvent): Promise<AuditEntry> {
    const entry: AuditEntry = { ...event, id: String(this.entries.length), sessionId: session.sessionId, timestamp: new Date().toISOString() };
    this.entries.push(entry);
    this.sessions.push(sessionStorageKey(session));
    return entry;
  }
  async appendTurn(session: SessionRef, events: readonly AuditEvent[]): Promise<AuditEntry[]> {
    const written: AuditEntry[] = [];
    for (const event of events) written.push(await this.append(session, event));
    return written;
  }
  async list(session: SessionRef): Promise<AuditPage> {
    return { entries: this.entries.filter((_e, i) => this.sessions[i] === sessionStorageKey(session)), nextCursor: null };
  }
}

interface Captured {
  code: number;
  out: string[];
  err: string[];
}

async function cli(services: Services, ...args: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, services, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("plugin CLI without storage", () => {
  let services: Services;
  beforeEach(() => {
    services = createServices(loadConfig({ LOG_LEVEL: "error" }), { plugins: pluginClasses, storage: undefined, logger: silentLogger });
  });
  afterEach(async () => {
    await services.close();
  });

  it("uses in-process memory when REDIS_URL is unset", () => {
    expect(services.memory.kind).toBe("in-process");
  });

  it("list prints every plugin, with aliases, and exits 0", async () => {
    const { code, out, err } = await cli(services, "list");
    expect(code).toBe(0);
    expect(err).toEqual([]);
    // One line per registered plugin, in registry order, aliases in brackets.
    expect(out.map((line) => line.split(/ {2}/)[0])).toEqual(
      pluginNames.map((name) => ({ echo: "echo (test)", shell: "shell (openinterpreter)" })[name] ?? name),
    );
    expect(out.every((line) => /^\S.* {2}\S/.test(line))).toBe(true);
  });

  it("list --json prints the plugin descriptions as JSON", async () => {
    const { code, out } = await cli(services, "list", "--json");
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const parsed = JSON.parse(out[0]!) as { plugins: { name: string; aliases: string[]; inputSchema: unknown }[] };
    expect(parsed.plugins.map((p) => p.name)).toEqual([...pluginNames]);
    expect(parsed.plugins.find((p) => p.name === "echo")?.aliases).toEqual(["test"]);
    expect(parsed.plugins.every((p) => typeof p.inputSchema === "object" && p.inputSchema !== null)).toBe(true);
  });

  it("run calculator 2+3*4 prints 14 and exits 0", async () => {
    const { code, out, err } = await cli(services, "run", "calculator", "2+3*4");
    expect(code).toBe(0);
    expect(out).toEqual(["14"]);
    expect(err).toEqual([]);
  });

  it("joins the remaining arguments into the input", async () => {
    const { code, out } = await cli(services, "run", "calculator", "2", "+", "3");
    expect(code).toBe(0);
    expect(out).toEqual(["5"]);
  });

  it("takes a JSON object as input", async () => {
    const { code, out } = await cli(services, "run", "echo", '{"text":"from json"}');
    expect(code).toBe(0);
    expect(out).toEqual(["from json"]);
  });

  it("runs a plugin by its alias", async () => {
    const { code, out } = await cli(services, "run", "test", "hi");
    expect(code).toBe(0);
    expect(out).toEqual(["hi"]);
  });

  it("run --json prints the run as JSON", async () => {
    const { code, out } = await cli(services, "run", "calculator", "2+3*4", "--json");
    expect(code).toBe(0);
    const parsed = JSON.parse(out[0]!) as Record<string, unknown>;
    expect(parsed).toMatchObject({ status: "success", plugin: "calculator", result: 14 });
    expect(typeof parsed.runId).toBe("string");
  });

  it("reports an invalid input with exit code 1", async () => {
    const { code, out, err } = await cli(services, "run", "calculator", "1/0");
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("invalid_input");
  });

  it("reports an error as JSON with --json", async () => {
    const { code, err } = await cli(services, "run", "calculator", "1/0", "--json");
    expect(code).toBe(1);
    const parsed = JSON.parse(err.join("\n")) as { status: string; error: { code: string } };
    expect(parsed.status).toBe("error");
    expect(parsed.error.code).toBe("invalid_input");
  });

  it("reports an unknown plugin with exit code 1", async () => {
    const { code, out, err } = await cli(services, "run", "nope", "x");
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("plugin_not_found");
  });

  it.each<[string, string[]]>([
    ["no arguments", []],
    ["an unknown command", ["frobnicate"]],
    ["run without a plugin", ["run"]],
    ["list with an extra argument", ["list", "extra"]],
  ])("prints the usage and exits 2 for %s", async (_label, args) => {
    const { code, out, err } = await cli(services, ...args);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err).toEqual([usage]);
    expect(usage).toContain("npm run plugin -- list");
  });

  it("rejects a malformed session id with invalid_session_id", async () => {
    const { code, out, err } = await cli(services, "run", "echo", "x", "--session", "bad id");
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("invalid_session_id");
  });

  it("does not run without a session when --session has no value", async () => {
    const { code, out } = await cli(services, "run", "echo", "x", "--session");
    expect(code).not.toBe(0);
    expect(out).toEqual([]);
  });

  it("cannot run in a session without storage for the audit log: storage_unavailable", async () => {
    const { code, err } = await cli(services, "run", "memory", "note", "hi", "--session", "s1");
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("storage_unavailable");
  });

  it("reports a disabled plugin (shell without an allow-list) as plugin_disabled, exit code 1", async () => {
    const { code, out, err } = await cli(services, "run", "shell", "ls");
    expect(code).toBe(1);
    expect(out).toEqual([]);
    expect(err.join("\n")).toContain("plugin_disabled");
  });

  it("reports the memory plugin without a session as invalid_input", async () => {
    const { code, err } = await cli(services, "run", "memory", "read");
    expect(code).toBe(1);
    expect(err.join("\n")).toContain("invalid_input");
  });
});

describe("plugin CLI in a session", () => {
  let services: Services;
  let audit: MemoryAuditLog;
  beforeEach(() => {
    audit = new MemoryAuditLog();
    services = createServices(loadConfig({ LOG_LEVEL: "error" }), { plugins: pluginClasses, storage: undefined, logger: silentLogger, audit });
  });
  afterEach(async () => {
    await services.close();
  });

  it("stores a note with memory note and shows it with memory read", async () => {
    const noted = await cli(services, "run", "memory", "note", "hi", "--session", "s1");
    expect(noted.code).toBe(0);
    expect(noted.out).toEqual(["Noted: hi"]);

    const read = await cli(services, "run", "memory", "read", "--session", "s1");
    expect(read.code).toBe(0);
    expect(read.out).toEqual(["note: hi"]);

    const other = await cli(services, "run", "memory", "read", "--session", "s2");
    expect(other.out).toEqual(["This session has no messages yet."]);
  });

  it("accepts --session before the command", async () => {
    await cli(services, "--session", "s3", "run", "memory", "note", "first");
    const read = await cli(services, "run", "memory", "--session", "s3");
    expect(read.code).toBe(0);
    expect(read.out).toEqual(["note: first"]);
  });

  it("records each run in the audit log of its session", async () => {
    await cli(services, "run", "echo", "x", "--session", "s4");
    await cli(services, "run", "calculator", "1/0", "--session", "s4");
    expect(audit.entries.map((e) => [e.sessionId, e.plugin, e.outcome])).toEqual([
      ["s4", "echo", "success"],
      ["s4", "calculator", "invalid_input"],
    ]);
    // The CLI's sessions are the local principal's.
    expect(audit.sessions).toEqual([sessionStorageKey(sessionRef(localCaller, "s4")), sessionStorageKey(sessionRef(localCaller, "s4"))]);
  });

  it("keeps its sessions as the local principal's: the chat of AUTH_MODE=none sees them, another principal does not", async () => {
    await cli(services, "run", "memory", "note", "from the cli", "--session", "s5");
    expect((await services.memory.recent(sessionRef(localCaller, "s5"))).map((m) => m.content)).toContain("from the cli");
    expect(await services.memory.recent(sessionRef(createCaller("user", "anonymous"), "s5"))).toEqual([]);
    const read = await services.chat.handle({ caller: localCaller, message: "/run memory read", sessionId: "s5" });
    expect(read.reply).toContain("note: from the cli");
  });
});

describe("plugin CLI as the machine's operator", () => {
  let services: Services;
  afterEach(async () => {
    await services.close();
  });

  it("runs a plugin that PLUGIN_POLICY keeps from every caller channel: the operator is outside the caller policy", async () => {
    services = createServices(loadConfig({ LOG_LEVEL: "error", PLUGIN_POLICY: '{"echo":{"channels":["queue"]}}' }), {
      plugins: pluginClasses,
      storage: undefined,
      logger: silentLogger,
    });
    const refused = await services.runner.execute({ caller: localCaller, channel: "execute", plugin: "echo", data: { text: "x" } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "plugin_forbidden" });
    const { code, out } = await cli(services, "run", "echo", "operator");
    expect(code).toBe(0);
    expect(out).toEqual(["operator"]);
  });
});
