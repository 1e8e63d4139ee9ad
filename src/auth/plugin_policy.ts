import type { AuthConfig, PluginPolicyConfig } from "../config/config.js";
import { ConfigError } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import type { AnyPlugin } from "../plugins/plugin.js";
import type { Caller } from "./caller.js";
import { channels, type Channel } from "./channel.js";

/** What the policy reads of a plugin: its names and its own default rule. */
export type PolicySubject = Pick<AnyPlugin, "name" | "aliases" | "defaultPolicy">;

/** One plugin's rule: the channels it runs on, and the roles of which a caller needs one (undefined: any caller). */
export interface PolicyRule {
  readonly channels: readonly Channel[];
  readonly roles: readonly string[] | undefined;
}

/**
 * Who may run which plugin on which channel: the one place that decides, consulted by the runner
 * before a plugin's input is even read, by the plugin list and by the tool list the model sees.
 *
 * A plugin's rule is its PLUGIN_POLICY entry when there is one; otherwise the plugin's own
 * `defaultPolicy` (the shell plugin: execute and chat only, role admin), otherwise every channel
 * for every caller. With AUTH_MODE=none the one local caller has no roles, so a plugin's *default*
 * roles do not apply there (only loopback can reach that host); roles written in PLUGIN_POLICY do.
 */
export class PluginPolicy {
  private constructor(private readonly rules: ReadonlyMap<string, PolicyRule>) {}

  /** Fails with a ConfigError naming each PLUGIN_POLICY key that is no plugin or alias. */
  static create(plugins: readonly PolicySubject[], configured: PluginPolicyConfig | undefined, mode: AuthConfig["mode"]): PluginPolicy {
    const byName = new Map<string, PolicySubject>();
    for (const plugin of plugins) for (const name of [plugin.name, ...(plugin.aliases ?? [])]) byName.set(name, plugin);
    const unknown = Object.keys(configured ?? {}).filter((name) => !byName.has(name));
    if (unknown.length > 0) {
      throw new ConfigError([`PLUGIN_POLICY names no plugin: ${unknown.join(", ")} (plugins: ${plugins.map((p) => p.name).join(", ")})`]);
    }
    const rules = new Map<string, PolicyRule>();
    for (const plugin of plugins) {
      const explicit = Object.entries(configured ?? {}).find(([name]) => byName.get(name) === plugin)?.[1];
      const fallback = plugin.defaultPolicy;
      rules.set(
        plugin.name,
        explicit
          ? { channels: explicit.channels ?? channels, roles: explicit.roles }
          : { channels: fallback?.channels ?? channels, roles: mode === "none" ? undefined : fallback?.roles },
      );
    }
    return new PluginPolicy(rules);
  }

  /** The channels this caller may run the plugin on; empty when none. */
  channelsFor(caller: Caller, plugin: AnyPlugin): readonly Channel[] {
    const rule = this.ruleOf(plugin);
    return hasRole(caller, rule.roles) ? rule.channels : [];
  }

  allows(caller: Caller, plugin: AnyPlugin, channel: Channel): boolean {
    return this.channelsFor(caller, plugin).includes(channel);
  }

  /** Throws 403 plugin_forbidden unless the caller may run the plugin on the channel. */
  assertAllowed(caller: Caller, plugin: AnyPlugin, channel: Channel): void {
    if (this.allows(caller, plugin, channel)) return;
    const rule = this.ruleOf(plugin);
    const why = !rule.channels.includes(channel)
      ? `it does not run on the ${channel} channel (it runs on: ${rule.channels.join(", ") || "none"})`
      : `it needs one of the roles ${rule.roles?.join(", ")}`;
    throw new AppError("plugin_forbidden", `plugin "${plugin.name}" may not be run here: ${why}`, { details: { plugin: plugin.name, channel } });
  }

  private ruleOf(plugin: PolicySubject): PolicyRule {
    return this.rules.get(plugin.name) ?? { channels, roles: undefined };
  }
}

function hasRole(caller: Caller, roles: readonly string[] | undefined): boolean {
  return roles === undefined || roles.some((role) => caller.roles.includes(role));
}
