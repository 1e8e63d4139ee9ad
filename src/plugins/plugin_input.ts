import { z } from "zod";
import { AppError } from "../errors/app_error.js";
import type { AnyPlugin } from "./plugin.js";

/**
 * Text as a plugin's input, the same wherever text arrives: `/run <plugin> <text>` in chat, the
 * CLI, and a string `data` in POST /api/plugins/execute, an asynchronous run or a queue message
 * (the original API's `{"plugin":"calculator","data":"2+3*4"}`). A JSON object is taken as it is;
 * other text goes through the plugin's own reading of text (`inputFromText`).
 */
export function inputFromText(plugin: AnyPlugin, text: string): unknown {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    try {
      return JSON.parse(trimmed);
    } catch {
      throw new AppError("invalid_input", `input for plugin "${plugin.name}" starts with "{" but is not valid JSON`, {
        details: { plugin: plugin.name },
      });
    }
  }
  if (plugin.inputFromText) return plugin.inputFromText(trimmed);
  throw new AppError("invalid_input", `plugin "${plugin.name}" takes a JSON object as input, not text: {...}`, {
    details: { plugin: plugin.name },
  });
}

/**
 * A plugin's input as a request sends it (`data` of POST /api/plugins/execute): what the named
 * plugin reads, checked against its own input schema before it runs. The OpenAPI document lists
 * the plugins' schemas here (src/http/openapi_document.ts), since which one applies depends on the plugin named.
 */
export const pluginDataSchema = z.unknown().meta({
  description:
    "A JSON value: an object of the plugin's input schema (`components.schemas.plugin.<name>.input`), or a string the plugin reads as text, as `/run <plugin> <text>` does. `{}` when omitted.",
});
