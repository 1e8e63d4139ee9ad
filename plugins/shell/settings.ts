/** The shell plugin's settings, parsed with the app's configuration at start (src/config/plugins_settings.ts). */
import * as z from "zod/mini";
import { commaList, settingDocs, wholeNumber } from "../../src/config/setting.js";

export const shellSettings = z.pipe(
  z.object({
    SHELL_PLUGIN_ALLOWED_COMMANDS: commaList((command) => /^[A-Za-z0-9._+-]+$/.test(command), "each command must be an executable name (no path)").register(
      settingDocs,
      {
        default: "unset: shell disabled",
        local: "e.g. `echo,date`",
        azure: "unset (shell disabled)",
        description: "comma-separated executable names the `shell` plugin may run, e.g. `echo,date,ls`",
      },
    ),
    SHELL_PLUGIN_TIMEOUT_MS: z._default(wholeNumber(100, 5 * 60 * 1000), 10_000).register(settingDocs, {
      description: "a shell command's process tree is killed after this long",
    }),
    SHELL_PLUGIN_MAX_OUTPUT_BYTES: z._default(wholeNumber(1024, 10 * 1024 * 1024), 64 * 1024).register(settingDocs, {
      description: "stdout and stderr are each cut (and the command stopped) past this",
    }),
  }),
  z.transform((env) => ({
    allowedCommands: env.SHELL_PLUGIN_ALLOWED_COMMANDS,
    timeoutMs: env.SHELL_PLUGIN_TIMEOUT_MS,
    maxOutputBytes: env.SHELL_PLUGIN_MAX_OUTPUT_BYTES,
  })),
);

export type ShellSettings = z.output<typeof shellSettings>;
