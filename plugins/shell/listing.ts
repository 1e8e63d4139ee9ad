import type { PluginSettings } from "../../src/plugins/plugin.js";

/*
 * What the shell plugin says of itself that depends on the settings. Apart from the plugin (and
 * its zod schema) so that the Functions entry can describe it as an MCP tool at start without
 * loading it (plugins/manifest.ts); the plugin answers with the same functions.
 */

export function description(settings: PluginSettings): string {
  const { allowedCommands, timeoutMs, maxOutputBytes } = settings.shell;
  return (
    (allowedCommands.length === 0
      ? "Disabled on this server (no commands are allowed). "
      : `Runs one command on the server and returns its exit code, stdout and stderr. Allowed commands: ${allowedCommands.join(", ")}. `) +
    "The command line is split into words like a shell would (quotes and backslashes), but no shell runs it: " +
    "pipes, redirections, ;, &&, globs, comments, $(...) and backticks are rejected, and $VARIABLES are passed literally. " +
    "It runs in an empty temporary directory that is deleted afterwards, and may only use paths inside it: " +
    "arguments with absolute paths (/...), ~ or .. that lead outside it are refused with path_not_allowed. " +
    `It is stopped after ${timeoutMs} ms, ` +
    `and its output is cut at ${maxOutputBytes} bytes per stream (the command is then stopped).`
  );
}

export function disabledReason(settings: PluginSettings): string | undefined {
  return settings.shell.allowedCommands.length === 0
    ? "the shell plugin is disabled: set SHELL_PLUGIN_ALLOWED_COMMANDS to the executables it may run"
    : undefined;
}
