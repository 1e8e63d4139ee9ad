import { describe, expect, it } from "vitest";
import { z } from "zod";
import { createCaller, localCaller } from "../../../src/auth/caller.js";
import { PluginPolicy } from "../../../src/auth/plugin_policy.js";
import { ConfigError, loadConfig } from "../../../src/config/config.js";
import { BasePlugin, type AnyPlugin } from "../../../src/plugins/plugin.js";
import { testAnnotations } from "../../support/plugin_context.js";

class Echo extends BasePlugin<{ text: string }, string> {
  readonly name = "echo";
  readonly title = "Test plugin";
  readonly description = "echo";
  readonly annotations = testAnnotations;
  readonly inputSchema = z.object({ text: z.string() });
  async execute(data: { text: string }) {
    return data.text;
  }
}
class Shell extends BasePlugin<{ command: string }, string> {
  readonly name = "shell";
  readonly aliases = ["openinterpreter"];
  readonly title = "Test plugin";
  readonly description = "shell";
  readonly annotations = testAnnotations;
  readonly inputSchema = z.object({ command: z.string() });
  readonly defaultPolicy = { channels: ["execute", "chat"], roles: ["admin"] } as const;
  async execute() {
    return "";
  }
}

const plugins: AnyPlugin[] = [new Echo(), new Shell()];
const [echo, shell] = plugins as [AnyPlugin, AnyPlugin];
const admin = createCaller("user", "root", ["admin"]);
const user = createCaller("user", "alice");

describe("PluginPolicy defaults", () => {
  it("opens every plugin without a default of its own on every channel to every caller", () => {
    const policy = PluginPolicy.create(plugins, undefined, "jwt");
    expect(policy.channelsFor(user, echo)).toEqual(["execute", "chat", "llm", "queue", "mcp"]);
  });

  it("keeps the shell plugin to execute and chat, for admins, in the cloud modes", () => {
    for (const mode of ["jwt", "easyauth"] as const) {
      const policy = PluginPolicy.create(plugins, undefined, mode);
      expect(policy.channelsFor(admin, shell)).toEqual(["execute", "chat"]);
      expect(policy.channelsFor(user, shell)).toEqual([]);
      expect(() => policy.assertAllowed(user, shell, "execute")).toThrow(expect.objectContaining({ code: "plugin_forbidden" }));
      expect(() => policy.assertAllowed(admin, shell, "llm")).toThrow(expect.objectContaining({ code: "plugin_forbidden" }));
      expect(() => policy.assertAllowed(admin, shell, "queue")).toThrow(expect.objectContaining({ code: "plugin_forbidden" }));
    }
  });

  it("lets the one local caller of AUTH_MODE=none run the shell plugin on execute and chat only", () => {
    const policy = PluginPolicy.create(plugins, undefined, "none");
    expect(policy.channelsFor(localCaller, shell)).toEqual(["execute", "chat"]);
    expect(policy.allows(localCaller, shell, "llm")).toBe(false);
  });
});

describe("PLUGIN_POLICY", () => {
  const configured = loadConfig({ PLUGIN_POLICY: '{"shell":{"roles":["admin"],"channels":["execute"]}}' }).pluginPolicy;

  it("gives the issue's example: 403 to a caller without admin, execute to an admin, not chat", () => {
    const policy = PluginPolicy.create(plugins, configured, "jwt");
    expect(() => policy.assertAllowed(user, shell, "execute")).toThrow(/needs one of the roles admin/);
    expect(policy.allows(admin, shell, "execute")).toBe(true);
    expect(() => policy.assertAllowed(admin, shell, "chat")).toThrow(/does not run on the chat channel/);
  });

  it("applies its roles in AUTH_MODE=none too, and leaves other plugins open", () => {
    const policy = PluginPolicy.create(plugins, configured, "none");
    expect(policy.allows(localCaller, shell, "execute")).toBe(false);
    expect(policy.allows(localCaller, echo, "queue")).toBe(true);
  });

  it("is keyed by name or alias, and a missing channels list means every channel", () => {
    const policy = PluginPolicy.create(plugins, { openinterpreter: { roles: ["ops"] } }, "jwt");
    expect(policy.channelsFor(createCaller("user", "o", ["ops"]), shell)).toEqual(["execute", "chat", "llm", "queue", "mcp"]);
    expect(policy.channelsFor(admin, shell)).toEqual([]);
  });

  it("refuses to start with an entry that names no plugin", () => {
    expect(() => PluginPolicy.create(plugins, { shel: { roles: ["admin"] } }, "jwt")).toThrow(ConfigError);
    expect(() => PluginPolicy.create(plugins, { shel: { roles: ["admin"] } }, "jwt")).toThrow(/PLUGIN_POLICY names no plugin: shel/);
  });

  it("refuses to start with two entries for one plugin, its name and an alias, rather than drop one", () => {
    const twice = { openinterpreter: { channels: ["execute" as const] }, shell: { roles: ["admin"], approval: { roles: ["admin"], ttlSeconds: 900 } } };
    expect(() => PluginPolicy.create(plugins, twice, "jwt")).toThrow(ConfigError);
    expect(() => PluginPolicy.create(plugins, twice, "jwt")).toThrow(/PLUGIN_POLICY names shell more than once: openinterpreter, shell/);
    expect(() => PluginPolicy.create(plugins, { openinterpreter: { roles: ["admin"] } }, "jwt")).not.toThrow();
  });

  it.each([
    ["not JSON", "{shell:", /must be JSON/],
    ["an unknown channel", '{"shell":{"channels":["web"]}}', /channels are execute, chat, llm, queue, mcp/],
    ["an unknown field", '{"shell":{"role":["admin"]}}', /PLUGIN_POLICY shell/],
    ["roles that are not strings", '{"shell":{"roles":[1]}}', /PLUGIN_POLICY shell.roles.0/],
  ])("is a configuration error when it is %s", (_name, value, message) => {
    expect(() => loadConfig({ PLUGIN_POLICY: value })).toThrow(message);
  });
});

describe("PLUGIN_POLICY approval rules", () => {
  const configured = loadConfig({
    PLUGIN_POLICY: '{"shell":{"roles":["operator"],"channels":["execute","chat"],"approval":{"roles":["admin"]}}}',
  }).pluginPolicy;
  const operator = createCaller("user", "olivia", ["operator"]);

  it("holds each allowed run for an approver, 15 minutes by default; a plugin without one runs at once", () => {
    const policy = PluginPolicy.create(plugins, configured, "jwt");
    expect(policy.approvalFor(shell)).toEqual({ roles: ["admin"], ttlSeconds: 900 });
    expect(policy.approvalFor(echo)).toBeUndefined();
    // Who may ask is the rule's roles, as without approval.
    expect(policy.allows(operator, shell, "execute")).toBe(true);
    expect(policy.allows(admin, shell, "execute")).toBe(false);
  });

  it("makes approvers of the approval roles only, in the cloud modes, and none of them decides their own request", () => {
    for (const mode of ["jwt", "easyauth"] as const) {
      const policy = PluginPolicy.create(plugins, configured, mode);
      expect(policy.mayApprove(admin, shell)).toBe(true);
      expect(policy.mayApprove(operator, shell)).toBe(false);
      expect(policy.mayApprove(admin, echo)).toBe(false);
      expect(policy.isApprover(admin)).toBe(true);
      expect(policy.isApprover(operator)).toBe(false);
      expect(policy.mayDecideOwn).toBe(false);
    }
  });

  it("lets the one local caller of AUTH_MODE=none approve, their own requests too", () => {
    const policy = PluginPolicy.create(plugins, { echo: { approval: { roles: ["admin"], ttlSeconds: 60 } } }, "none");
    expect(policy.isApprover(localCaller)).toBe(true);
    expect(policy.mayApprove(localCaller, echo)).toBe(true);
    expect(policy.mayApprove(localCaller, shell)).toBe(false);
    expect(policy.mayDecideOwn).toBe(true);
    // Without any approval rule nobody is an approver.
    expect(PluginPolicy.create(plugins, undefined, "none").isApprover(localCaller)).toBe(false);
  });

  it.each([
    [
      "without roles",
      '{"shell":{"approval":{"ttlSeconds":60}}}',
      'PLUGIN_POLICY shell.approval.roles: must list the roles whose members approve the runs, such as ["admin"]',
    ],
    ["with no role", '{"shell":{"approval":{"roles":[]}}}', "PLUGIN_POLICY shell.approval.roles: must name at least one role whose members approve the runs"],
    [
      "with a time to live of 0",
      '{"shell":{"approval":{"roles":["admin"],"ttlSeconds":0}}}',
      "PLUGIN_POLICY shell.approval.ttlSeconds: must be at least 1 second",
    ],
    [
      "with a time to live that is no whole number",
      '{"shell":{"approval":{"roles":["admin"],"ttlSeconds":1.5}}}',
      "PLUGIN_POLICY shell.approval.ttlSeconds: must be a whole number of seconds",
    ],
    [
      "with a time to live as text",
      '{"shell":{"approval":{"roles":["admin"],"ttlSeconds":"900"}}}',
      "PLUGIN_POLICY shell.approval.ttlSeconds: must be a number of seconds",
    ],
    [
      "with a time to live over 7 days",
      '{"shell":{"approval":{"roles":["admin"],"ttlSeconds":604801}}}',
      "PLUGIN_POLICY shell.approval.ttlSeconds: must be at most 604800 seconds (7 days)",
    ],
    ["with an unknown field", '{"shell":{"approval":{"roles":["admin"],"ttl":60}}}', 'PLUGIN_POLICY shell.approval: Unrecognized key: "ttl"'],
  ])("is a configuration error when an approval rule is %s, saying what is wrong", (_name, value, problem) => {
    expect(() => loadConfig({ PLUGIN_POLICY: value })).toThrow(ConfigError);
    try {
      loadConfig({ PLUGIN_POLICY: value });
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([problem]);
    }
  });
});
