import * as z from "zod/mini";
import { authMode } from "./auth_settings.js";
import { keyPrefix, settingDocs, wholeNumber } from "./setting.js";

/** Requests per minute on every POST route and MCP request, per principal; 0: no limit. */
export const rateLimitSettings = z.pipe(
  z.object({
    RATE_LIMIT_PER_MINUTE: z.optional(wholeNumber(0, 1_000_000, "must be at least 0 (0 turns it off)")).register(settingDocs, {
      default: "`600` with `jwt`/`easyauth`, off (`0`) with `none`",
      local: "default (off)",
      azure: "default (`600`)",
      description:
        "requests per minute per principal on every POST route and every MCP request, shared through Redis when it is configured; over it 429 `rate_limited` with `Retry-After`",
    }),
    RATE_LIMIT_KEY_PREFIX: keyPrefix("rate:").register(settingDocs, { description: "Redis key prefix of the rate limiter's counters" }),
    AUTH_MODE: authMode,
  }),
  z.transform((env) => ({
    // Off by default where every caller is one local principal, so local load tests are not throttled.
    perMinute: env.RATE_LIMIT_PER_MINUTE ?? ((env.AUTH_MODE ?? "none") === "none" ? 0 : 600),
    keyPrefix: env.RATE_LIMIT_KEY_PREFIX,
  })),
);
