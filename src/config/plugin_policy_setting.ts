import * as z from "zod/mini";
import { channels } from "../auth/channel.js";
import { settingDocs, text } from "./setting.js";

/** Per plugin: the channels it may run on (all when omitted) and the roles a caller needs (any when omitted). */
const pluginPolicyEntries = z.record(
  z.string().check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, "keys must be plugin names")),
  z.strictObject({
    channels: z.optional(z.array(z.enum(channels, { error: `channels are ${channels.join(", ")}` }))),
    roles: z.optional(z.array(z.string().check(z.minLength(1), z.maxLength(200)))),
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
  description: `JSON: plugin name → \`{"channels":[...],"roles":[...]}\`, e.g. \`${example}\``,
});

export type PluginPolicyConfig = NonNullable<z.output<typeof pluginPolicy>>;
