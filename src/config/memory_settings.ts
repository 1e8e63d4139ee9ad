import * as z from "zod/mini";
import { keyPrefix, oneOf, settingDocs, text, textWhere, wholeNumber } from "./setting.js";

const memoryEnvironment = z
  .object({
    REDIS_URL: z.optional(textWhere((v) => /^rediss?:\/\/[^\s]+$/.test(v), "must be a redis:// or rediss:// URL")).register(settingDocs, {
      secret: true,
      default: "unset: in-process memory",
      local: "`redis://localhost:6379`, or unset (in-process)",
      azure: "never set (`REDIS_HOST` instead)",
      description: "`redis://` or `rediss://` URL of the session memory",
    }),
    REDIS_HOST: z.optional(textWhere((v) => /^[A-Za-z0-9.-]+$/.test(v), "must be a host name such as <name>.<region>.redis.azure.net")).register(settingDocs, {
      local: "unset, or the deployed cache's host name (see [Deployment](deployment.md#4-run-it-locally-against-the-deployment))",
      azure: "the Azure Managed Redis host name, `redis-<token>.<region>.redis.azure.net`",
      description:
        "Redis with Microsoft Entra ID (instead of `REDIS_URL`): the identity's token is the password, renewed before it expires; Azure Managed Redis or Azure Cache for Redis (`<name>.redis.cache.windows.net`)",
    }),
    // 10000: the TLS port of an Azure Managed Redis database. Azure Cache for Redis (retiring) listens on 6380.
    REDIS_PORT: z._default(wholeNumber(1, 65535), 10000).register(settingDocs, {
      local: "not used; default against the deployment",
      azure: "`10000` (the database's port)",
      description: "TLS port of the cache with `REDIS_HOST`: `10000` for Azure Managed Redis, `6380` for Azure Cache for Redis",
    }),
    REDIS_TLS: z
      ._default(
        z.pipe(
          oneOf(["true", "false"]),
          z.transform((v) => v === "true"),
        ),
        true,
      )
      .register(settingDocs, {
        local: "`false` against a local redis-server",
        description: "TLS to Redis with `REDIS_HOST`",
      }),
    REDIS_USERNAME: z.optional(text()).register(settingDocs, {
      default: "unset (required with `REDIS_HOST`)",
      local: "not used; your own object id against the deployment",
      azure: "the identity's object (principal) id",
      description: "the user name of the Redis access policy assignment: the object id of whoever connects",
    }),
    SESSION_MEMORY_MAX_MESSAGES: z
      ._default(wholeNumber(1, 10_000), 50)
      .register(settingDocs, { description: "messages kept per session (older ones are trimmed)" }),
    SESSION_MEMORY_TTL_SECONDS: z._default(wholeNumber(1, 365 * 24 * 3600), 7 * 24 * 3600).register(settingDocs, {
      default: "`604800` (7 days)",
      description: "a session's memory expires this long after its last message",
    }),
    SESSION_MEMORY_KEY_PREFIX: keyPrefix("mem:").register(settingDocs, { description: "Redis key prefix; the key of a session is `<prefix><sessionId>`" }),
  })
  .check(
    z.superRefine((env, ctx) => {
      if (env.REDIS_URL && env.REDIS_HOST) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_HOST"],
          message: "REDIS_HOST (Microsoft Entra authentication) cannot be combined with REDIS_URL: use REDIS_URL locally, REDIS_HOST in Azure",
        });
      }
      if (env.REDIS_HOST && !env.REDIS_USERNAME) {
        ctx.addIssue({
          code: "custom",
          path: ["REDIS_USERNAME"],
          message: "REDIS_USERNAME (the object id of the managed identity) must be set with REDIS_HOST",
        });
      }
    }),
  );

/** Session memory: in Redis, reached by URL (locally) or with Microsoft Entra ID (in Azure), else in process. */
export const memorySettings = z.pipe(
  memoryEnvironment,
  z.transform((env) => ({
    redisUrl: env.REDIS_URL,
    /** Redis reached with Microsoft Entra ID: an access token of the managed identity is the password. Set in Azure instead of redisUrl. */
    redisEntra: env.REDIS_HOST ? { host: env.REDIS_HOST, port: env.REDIS_PORT, tls: env.REDIS_TLS, username: env.REDIS_USERNAME! } : undefined,
    maxMessages: env.SESSION_MEMORY_MAX_MESSAGES,
    ttlSeconds: env.SESSION_MEMORY_TTL_SECONDS,
    keyPrefix: env.SESSION_MEMORY_KEY_PREFIX,
  })),
);
