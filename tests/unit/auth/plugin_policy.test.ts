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

  it.each([
    ["not JSON", "{shell:", /must be JSON/],
    ["an unknown channel", '{"shell":{"channels":["web"]}}', /channels are execute, chat, llm, queue, mcp/],
    ["an unknown field", '{"shell":{"role":["admin"]}}', /PLUGIN_POLICY shell/],
    ["roles that are not strings", '{"shell":{"roles":[1]}}', /PLUGIN_POLICY shell.roles.0/],
  ])("is a configuration error when it is %s", (_name, value, message) => {
    expect(() => loadConfig({ PLUGIN_POLICY: value })).toThrow(message);
  });
});
