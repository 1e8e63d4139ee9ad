import * as z from "zod/mini";
import { channels } from "../auth/channel.js";
import { settingDocs, text } from "./setting.js";

/** How long a run waiting for approval may wait when its rule says nothing: 15 minutes. */
const defaultApprovalTtlSeconds = 900;
const maxApprovalTtlSeconds = 7 * 24 * 3600;

const roleName = () => z.string().check(z.minLength(1), z.maxLength(200));

/**
 * Per plugin: the channels it may run on (all when omitted), the roles a caller needs (any when
 * omitted), and `approval`: the roles of whom one must approve each run first, and how long a
 * request waits for that (defaultApprovalTtlSeconds when omitted).
 */
const pluginPolicyEntries = z.record(
  z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, "keys must be plugin names")),
  z.strictObject({
    channels: z.optional(z.array(z.enum(channels, { error: `channels are ${channels.join(", ")}` }))),
    roles: z.optional(z.array(roleName())),
    approval: z.optional(
      z.strictObject({
        roles: z
          .array(roleName(), { error: 'must list the roles whose members approve the runs, such as ["admin"]' })
          .check(z.minLength(1, "must name at least one role whose members approve the runs")),
        ttlSeconds: z._default(
          z
            .number({ error: "must be a number of seconds" })
            .check(
              z.int("must be a whole number of seconds"),
              z.gte(1, "must be at least 1 second"),
              z.lte(maxApprovalTtlSeconds, `must be at most ${maxApprovalTtlSeconds} seconds (7 days)`),
            ),
          defaultApprovalTtlSeconds,
        ),
      }),
    ),
  }),
);

const example = '{"shell":{"roles":["admin"],"channels":["execute"]}}';

const json = z.transform((value: string, ctx): unknown => {
  try {
    return JSON.parse(value);
  } catch {
    ctx.issues.push({ code: "custom", message: `must be JSON such as ${example}`, input: value });
    return z.NEVER;
  }
});

/** Which plugins run on which channel for which roles; unset: the defaults (src/auth/plugin_policy.ts). */
export const pluginPolicy = z.optional(z.pipe(z.pipe(text(), json), pluginPolicyEntries)).register(settingDocs, {
  default: "unset: the defaults (see [Security](security.md#channels-and-plugin-policy))",
  local: "unset",
  azure: "unset (parameter `pluginPolicy`)",
  description: `JSON: plugin name → \`{"channels":[...],"roles":[...],"approval"?:{"roles":[...],"ttlSeconds"?:900}}\`, e.g. \`${example}\`; \`approval\`: [approvals.md](approvals.md)`,
});

export type PluginPolicyConfig = NonNullable<z.output<typeof pluginPolicy>>;

/** Whose approval a plugin's runs wait for, and for how long. */
export type ApprovalRuleConfig = NonNullable<PluginPolicyConfig[string]["approval"]>;
