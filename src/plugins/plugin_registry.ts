import { z } from "zod";
import type { Caller } from "../auth/caller.js";
import { channels } from "../auth/channel.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import { modelFacingSchemaProblems } from "./model_facing_schema.js";
import type { AnyPlugin } from "./plugin.js";

const pluginNamePattern = /^[a-z][a-z0-9_]{0,63}$/;

const pluginDescriptionSchema = z.object({
  name: z.string(),
  description: z.string(),
  aliases: z.array(z.string()),
  inputSchema: z.record(z.string(), z.unknown()).meta({ description: "A JSON Schema (draft 2020-12)." }),
  timeoutMs: z.number().int(),
});

export type PluginDescription = z.infer<typeof pluginDescriptionSchema>;

/** A plugin as one caller sees it (GET /api/plugins): with the channels it may run it on. */
export const callerPluginSchema = pluginDescriptionSchema.extend({
  channels: z.array(z.enum(channels)).meta({ description: "The channels on which this caller may run the plugin." }),
  needsApproval: z.boolean().meta({
    description: "Whether a run of the plugin waits for an approver's decision: execute then answers 202 awaiting_approval (docs/approvals.md).",
  }),
});

export type CallerPlugin = z.infer<typeof callerPluginSchema>;

/** The catalogue: every plugin by name and alias, each described once with its JSON Schema. */
export class PluginRegistry {
  private readonly byName = new Map<string, AnyPlugin>();
  private readonly descriptions: PluginDescription[];

  constructor(plugins: readonly AnyPlugin[], defaultTimeoutMs: number) {
    for (const plugin of plugins) {
      for (const name of [plugin.name, ...(plugin.aliases ?? [])]) {
        if (!pluginNamePattern.test(name)) {
          throw new Error(`plugin name or alias "${name}" must match ${pluginNamePattern}`);
        }
        const taken = this.byName.get(name);
        if (taken) throw new Error(`plugin name or alias "${name}" is used by both "${taken.name}" and "${plugin.name}"`);
        this.byName.set(name, plugin);
      }
    }
    this.descriptions = plugins.map((plugin) => {
      // "input": the schema a caller must send, before defaults and transforms are applied.
      const inputSchema = z.toJSONSchema(plugin.inputSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
      // The same schema is listed by GET /api/plugins and offered to models as tool parameters:
      // one a model's API would refuse fails here, at start, not on every chat message.
      const problems = modelFacingSchemaProblems(plugin.name, inputSchema);
      if (problems.length > 0) {
        throw new Error(`plugin "${plugin.name}": its input schema cannot be offered to a language model as a tool: ${problems.join("; ")}`);
      }
      return {
        name: plugin.name,
        description: plugin.description,
        aliases: [...(plugin.aliases ?? [])],
        inputSchema,
        timeoutMs: plugin.timeoutMs ?? defaultTimeoutMs,
      };
    });
  }

  /** The plugin registered under this name or alias. */
  resolve(nameOrAlias: string): AnyPlugin | undefined {
    return this.byName.get(nameOrAlias);
  }

  list(): readonly AnyPlugin[] {
    return [...new Set(this.byName.values())];
  }

  describe(): readonly PluginDescription[] {
    return this.descriptions;
  }

  /** The catalogue as one caller sees it: only the plugins it may run on some channel, each with those channels. */
  describeFor(caller: Caller, policy: PluginPolicy): CallerPlugin[] {
    return this.descriptions.flatMap((description) => {
      const plugin = this.byName.get(description.name);
      const allowed = plugin ? policy.channelsFor(caller, plugin) : [];
      return plugin && allowed.length > 0 ? [{ ...description, channels: [...allowed], needsApproval: policy.approvalFor(plugin) !== undefined }] : [];
    });
  }
}
