import type { ApprovalRuleConfig, AuthConfig, PluginPolicyConfig } from "../config/config.js";
import { ConfigError } from "../config/config.js";
import { AppError } from "../errors/app_error.js";
import type { AnyPlugin } from "../plugins/plugin.js";
import type { Caller } from "./caller.js";
import { channels, type Channel } from "./channel.js";

/** What the policy reads of a plugin: its names and its own default rule. */
export type PolicySubject = Pick<AnyPlugin, "name" | "aliases" | "defaultPolicy">;

/** Whose approval each run of a plugin waits for (one of these roles), and how long a request waits. */
export type ApprovalRule = ApprovalRuleConfig;

/**
 * One plugin's rule: the channels it runs on, the roles of which a caller needs one (undefined:
 * any caller), and whether each run first waits for an approver (undefined: it runs at once).
 */
export interface PolicyRule {
  readonly channels: readonly Channel[];
  readonly roles: readonly string[] | undefined;
  readonly approval?: ApprovalRule | undefined;
}

/**
 * Who may run which plugin on which channel: the one place that decides, consulted by the runner
 * before a plugin's input is even read, by the plugin list and by the tool list the model sees.
 *
 * A plugin's rule is its PLUGIN_POLICY entry when there is one; otherwise the plugin's own
 * `defaultPolicy` (the shell plugin: execute and chat only, role admin), otherwise every channel
 * for every caller. With AUTH_MODE=none the one local caller has no roles, so a plugin's *default*
 * roles do not apply there (only loopback can reach that host); roles written in PLUGIN_POLICY do.
 *
 * An entry's `approval` turns each run the rule allows into a request that one approver decides
 * (src/approvals/): someone with one of its roles, never the requester, except the one local
 * caller of AUTH_MODE=none, a single developer, who decides their own requests.
 */
export class PluginPolicy {
  private constructor(
    private readonly rules: ReadonlyMap<string, PolicyRule>,
    private readonly mode: AuthConfig["mode"],
  ) {}

  /** Fails with a ConfigError naming each PLUGIN_POLICY key that is no plugin or alias, and each plugin that two keys name. */
  static create(plugins: readonly PolicySubject[], configured: PluginPolicyConfig | undefined, mode: AuthConfig["mode"]): PluginPolicy {
    const byName = new Map<string, PolicySubject>();
    for (const plugin of plugins) for (const name of [plugin.name, ...(plugin.aliases ?? [])]) byName.set(name, plugin);
    const unknown = Object.keys(configured ?? {}).filter((name) => !byName.has(name));
    if (unknown.length > 0) {
      throw new ConfigError([`PLUGIN_POLICY names no plugin: ${unknown.join(", ")} (plugins: ${plugins.map((p) => p.name).join(", ")})`]);
    }
    const rules = new Map<string, PolicyRule>();
    const twice: string[] = [];
    for (const plugin of plugins) {
      // Its entries, under its name or an alias: with two, one would win silently, the other's roles or approval rule lost.
      const entries = Object.entries(configured ?? {}).filter(([name]) => byName.get(name) === plugin);
      if (entries.length > 1) {
        twice.push(
          `PLUGIN_POLICY names ${plugin.name} more than once: ${entries.map(([name]) => name).join(", ")} (one entry per plugin, by its name or one alias)`,
        );
      }
      const explicit = entries[0]?.[1];
      const fallback = plugin.defaultPolicy;
      rules.set(
        plugin.name,
        explicit
          ? { channels: explicit.channels ?? channels, roles: explicit.roles, approval: explicit.approval }
          : { channels: fallback?.channels ?? channels, roles: mode === "none" ? undefined : fallback?.roles },
      );
    }
    if (twice.length > 0) throw new ConfigError(twice);
    return new PluginPolicy(rules, mode);
  }

  /** Undefined when the plugin's runs start at once; otherwise whose approval each run waits for. */
  approvalFor(plugin: PolicySubject): ApprovalRule | undefined {
    return this.ruleOf(plugin).approval;
  }

  /** Whether the caller may decide requests to run this plugin (whoever made them; see mayDecideOwn). */
  mayApprove(caller: Caller, plugin: PolicySubject): boolean {
    return this.approves(caller, this.approvalFor(plugin));
  }

  /** Whether the caller may decide the requests of some plugin: GET /api/approvals is for such callers only. */
  isApprover(caller: Caller): boolean {
    return [...this.rules.values()].some(({ approval }) => this.approves(caller, approval));
  }

  /** Only the one local caller of AUTH_MODE=none decides their own requests; in the cloud modes a second person does. */
  get mayDecideOwn(): boolean {
    return this.mode === "none";
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

  private approves(caller: Caller, approval: ApprovalRule | undefined): boolean {
    return approval !== undefined && (this.mode === "none" || hasRole(caller, approval.roles));
  }

  private ruleOf(plugin: PolicySubject): PolicyRule {
    return this.rules.get(plugin.name) ?? { channels, roles: undefined };
  }
}

function hasRole(caller: Caller, roles: readonly string[] | undefined): boolean {
  return roles === undefined || roles.some((role) => caller.roles.includes(role));
}
