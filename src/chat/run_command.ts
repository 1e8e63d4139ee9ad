import { AppError } from "../errors/app_error.js";
import type { AnyPlugin } from "../plugins/plugin.js";

export interface RunCommand {
  readonly plugin: string;
  readonly inputText: string;
}

const runPrefix = /^\/run(?=\s|$)/;

/** `/run <plugin> <input>`: the chat command that runs a plugin without the LLM. */
export function parseRunCommand(message: string): RunCommand | undefined {
  const trimmed = message.trim();
  if (!runPrefix.test(trimmed)) return undefined;
  const rest = trimmed.slice(4).trim();
  const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(rest);
  if (!match?.[1]) {
    throw new AppError("invalid_request", "usage: /run <plugin> <input>", { details: { field: "message" } });
  }
  return { plugin: match[1], inputText: (match[2] ?? "").trim() };
}

/** A JSON object is taken as the plugin's input as it is; other text goes through the plugin's own reading of text. */
export function inputFromCommandText(plugin: AnyPlugin, text: string): unknown {
  if (text.startsWith("{")) {
    try {
      return JSON.parse(text);
    } catch {
      throw new AppError("invalid_input", `input for plugin "${plugin.name}" starts with "{" but is not valid JSON`, {
        details: { plugin: plugin.name },
      });
    }
  }
  if (plugin.inputFromText) return plugin.inputFromText(text);
  throw new AppError("invalid_input", `plugin "${plugin.name}" takes JSON input: /run ${plugin.name} {...}`, {
    details: { plugin: plugin.name },
  });
}

export function replyText(plugin: AnyPlugin, result: unknown): string {
  if (plugin.formatReply) return plugin.formatReply(result);
  return typeof result === "string" ? result : JSON.stringify(result, null, 2);
}
