import * as z from "zod/mini";
import { huggingFaceSettings } from "../../plugins/huggingface/settings.js";
import { shellSettings } from "../../plugins/shell/settings.js";
import { authMode } from "./auth_settings.js";
import { keyPrefix, settingDocs, wholeNumber, withParts } from "./setting.js";

/**
 * What individual plugins are configured with, each declared next to the plugin (plugins/<name>/settings.ts),
 * by the key the plugin's constructor reads it under: a plugin with settings of its own adds one line here.
 */
const pluginSettings = withParts(z.object({ shell: shellSettings, huggingFace: huggingFaceSettings }));

const pluginsEnvironment = z
  .object({
    PLUGIN_DEFAULT_TIMEOUT_MS: z
      ._default(wholeNumber(10, 10 * 60 * 1000), 5000)
      .register(settingDocs, { description: "timeout of a plugin run when the plugin sets none" }),
    PLUGIN_MAX_CONCURRENCY: z._default(wholeNumber(1, 10_000), 16).register(settingDocs, { description: "runs of one plugin at the same time" }),
    PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL: z.optional(wholeNumber(1, 10_000)).register(settingDocs, {
      default: "half of `PLUGIN_MAX_CONCURRENCY`, rounded up (all of it with `AUTH_MODE=none`, one caller)",
      local: "default",
      azure: "default",
      description:
        "of those, runs of one principal (a caller, or the queue's `queue` principal) at the same time, so that another's run of the plugin still starts; its other runs wait their turn, up to `PLUGIN_MAX_QUEUE`",
    }),
    PLUGIN_MAX_QUEUE: z._default(wholeNumber(0, 100_000), 64).register(settingDocs, {
      description: "runs of one plugin waiting for a slot, and of one principal waiting for its share; one more gets 429 `plugin_busy`",
    }),
    RESULT_CACHE_KEY_PREFIX: keyPrefix("cache:").register(settingDocs, { description: "Redis key prefix of cached plugin results (calculator)" }),
    AUTH_MODE: authMode,
    settings: pluginSettings,
  })
  .check(
    z.superRefine((env, ctx) => {
      const share = env.PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL;
      if (share !== undefined && share > env.PLUGIN_MAX_CONCURRENCY) {
        ctx.addIssue({
          code: "custom",
          path: ["PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL"],
          message: `PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL must be at most PLUGIN_MAX_CONCURRENCY (${env.PLUGIN_MAX_CONCURRENCY})`,
        });
      }
    }),
  );

/** How plugins run: timeouts, concurrency and its shares, the result cache, and each plugin's own settings. */
export const pluginsSettings = z.pipe(
  withParts(pluginsEnvironment),
  z.transform((env) => ({
    defaultTimeoutMs: env.PLUGIN_DEFAULT_TIMEOUT_MS,
    /** Runs of one plugin at a time, and how many more may wait; past that, plugin_busy. */
    maxConcurrency: env.PLUGIN_MAX_CONCURRENCY,
    /**
     * Of a plugin's runs at a time, how many one principal may have; its others wait (up to maxQueue). Unset: half of
     * maxConcurrency (rounded up), so that one principal leaves the other half to the rest, and all of it with AUTH_MODE=none,
     * whose one local caller is every principal.
     */
    maxConcurrencyPerPrincipal:
      env.PLUGIN_MAX_CONCURRENCY_PER_PRINCIPAL ??
      ((env.AUTH_MODE ?? "none") === "none" ? env.PLUGIN_MAX_CONCURRENCY : Math.ceil(env.PLUGIN_MAX_CONCURRENCY / 2)),
    maxQueue: env.PLUGIN_MAX_QUEUE,
    cacheKeyPrefix: env.RESULT_CACHE_KEY_PREFIX,
    settings: env.settings,
  })),
);
