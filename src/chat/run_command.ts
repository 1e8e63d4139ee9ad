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

export function replyText(plugin: AnyPlugin, result: unknown): string {
  if (plugin.formatReply) return plugin.formatReply(result);
  return typeof result === "string" ? result : JSON.stringify(result, null, 2);
}
