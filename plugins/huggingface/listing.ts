import type { PluginSettings } from "../../src/plugins/plugin.js";

/*
 * What the huggingface plugin says of itself that depends on the settings. Apart from the plugin
 * (and its zod schema) so that the Functions entry can describe it as an MCP tool at start without
 * loading it (plugins/manifest.ts); the plugin answers with the same functions.
 */

export function description(settings: PluginSettings): string {
  return (
    "Runs a Hugging Face model on a text. Tasks: text-classification (for example sentiment; returns labels with scores, best first), " +
    "summarization (returns a summary) and text-generation (continues the text). " +
    `Without a model, uses the configured default, ${settings.huggingFace.model}; ` +
    "for another task, name a model (owner/name) made for it."
  );
}

export function disabledReason(settings: PluginSettings): string | undefined {
  return settings.huggingFace.token ? undefined : "the huggingface plugin is disabled: set HF_TOKEN to a Hugging Face access token";
}
