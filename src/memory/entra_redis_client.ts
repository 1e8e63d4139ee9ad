import type { AccessToken, TokenCredential } from "@azure/identity";
import { Redis, type Callback, type RedisOptions } from "ioredis";
import type { Logger } from "../logging/logger.js";
import { failFastRedisOptions, throttledConnectionWarning } from "./redis_client.js";

/** The scope of Azure Cache for Redis / Azure Managed Redis data-plane tokens. */
export const REDIS_ENTRA_SCOPE = "https://redis.azure.com/.default";

export interface EntraRedisClientOptions {
  readonly host: string;
  readonly port: number;
  /** TLS with the host as server name (Azure requires TLS for Entra authentication). */
  readonly tls: boolean;
  /** The object (principal) id of the identity: the Redis user name of its access policy assignment. */
  readonly username: string;
  readonly credential: TokenCredential;
  readonly logger: Logger;
  /** How long before the token expires it is replaced; default 5 minutes. */
  readonly refreshMarginMs?: number;
  /**
   * Floor of the delay between two token requests (so that a short-lived or already expiring token
   * cannot cause a tight loop), and the first delay of the retries after a failed request; default 10 s.
   */
  readonly minRefreshDelayMs?: number;
  /** Ceiling of the retry back-off after failed token requests; default 60 s. */
  readonly maxRetryDelayMs?: number;
  /** The clock the refresh is planned with; Date.now by default. */
  readonly now?: () => number;
}

export interface EntraRedisClient {
  /**
   * The connection. Usable at once: commands issued before the first token has arrived wait in
   * ioredis's offline queue (bounded by the command timeout), then run on the authenticated connection.
   */
  readonly redis: Redis;
  /**
   * Settles on the first outcome: resolves when the connection is first ready, rejects on the first
   * failure (no token, connection or authentication refused). The client keeps retrying either way;
   * nobody has to await it (a rejection is never unhandled).
   */
  readonly ready: Promise<void>;
  /** Stops the token refresh (no timer is left) and closes the connection. Idempotent. */
  close(): Promise<void>;
}

const defaultMarginMs = 5 * 60_000;
const defaultMinDelayMs = 10_000;
const defaultMaxRetryDelayMs = 60_000;
// setTimeout fires at once beyond 2^31-1 ms; a token lives hours, so one day is ceiling enough.
const maxTimerMs = 24 * 60 * 60_000;
const errorLogIntervalMs = 10_000;
const disconnectGraceMs = 200;
const noop = (): void => {};

/**
 * A Redis connection authenticated with Microsoft Entra ID: user name = the identity's object id,
 * password = an access token for {@link REDIS_ENTRA_SCOPE}.
 *
 * The token is replaced `refreshMarginMs` before it expires. The new token is written into
 * `redis.options.password`, which ioredis reads on every (re)connect, and sent as
 * `AUTH <username> <token>` on the live connection, where it is queued in order with the other
 * commands: nothing is dropped or failed by a refresh. A failed token request is retried with
 * back-off (logged, throttled) while the old token keeps the connection going.
 *
 * Connection settings are the app's `failFastRedisOptions`, as for `createRedisClient`.
 */
export function createEntraRedisClient(options: EntraRedisClientOptions): EntraRedisClient {
  const marginMs = options.refreshMarginMs ?? defaultMarginMs;
  const minDelayMs = options.minRefreshDelayMs ?? defaultMinDelayMs;
  const maxRetryDelayMs = Math.max(options.maxRetryDelayMs ?? defaultMaxRetryDelayMs, minDelayMs);
  const now = options.now ?? Date.now;
  const { logger, username } = options;

  let closed = false;
  let current: AccessToken | undefined;
  let fetching = false;
  let failures = 0;
  let lastFetchAt = Number.NEGATIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let timerDueAt = Number.POSITIVE_INFINITY;
  let lastTokenFailureLog = Number.NEGATIVE_INFINITY;
  const warnConnection = throttledConnectionWarning(logger, now);

  // The first connect waits for the first token.
  let tokenArrived!: () => void;
  let tokenAbandoned!: (error: Error) => void;
  const firstToken = new Promise<void>((resolve, reject) => {
    tokenArrived = resolve;
    tokenAbandoned = reject;
  });
  firstToken.catch(noop);

  let settled = false;
  let resolveReady!: () => void;
  let rejectReady!: (error: Error) => void;
  const ready = new Promise<void>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(noop);
  const settleReady = (error?: unknown): void => {
    if (settled) return;
    settled = true;
    if (error === undefined) resolveReady();
    else rejectReady(new Error(describe(error)));
  };

  const redis = new EntraRedis(
    {
      host: options.host,
      port: options.port,
      username,
      ...(options.tls ? { tls: { servername: options.host } } : {}),
      ...failFastRedisOptions,
      lazyConnect: true,
      // How long a closed socket may take to end before it is destroyed (ioredis's default is 2 s).
      disconnectTimeout: disconnectGraceMs,
    },
    () => firstToken,
  );

  /** An error message without the token, should any layer ever echo it. */
  function describe(error: unknown): string {
    const message = error instanceof Error ? error.message : String(error);
    return current ? message.split(current.token).join("***") : message;
  }

  redis.on("ready", () => settleReady());
  redis.on("error", (error: Error) => {
    scrubAuthArguments(error);
    settleReady(error);
    // A refused token may have been revoked or have expired: ask for a new one (no sooner than the floor).
    if (isAuthError(error)) refreshSoon();
    warnConnection({ error: describe(error) });
  });

  function schedule(delayMs: number, onlyIfEarlier = false): void {
    if (closed) return;
    const delay = Math.min(Math.max(delayMs, 0), maxTimerMs);
    const dueAt = now() + delay;
    if (onlyIfEarlier && timer && dueAt >= timerDueAt) return;
    if (timer) clearTimeout(timer);
    timerDueAt = dueAt;
    timer = setTimeout(() => {
      timer = undefined;
      timerDueAt = Number.POSITIVE_INFINITY;
      void refresh();
    }, delay);
    timer.unref();
  }

  function refreshSoon(): void {
    if (closed || fetching) return;
    schedule(lastFetchAt + minDelayMs - now(), true);
  }

  async function refresh(): Promise<void> {
    if (closed || fetching) return;
    fetching = true;
    lastFetchAt = now();
    try {
      const token = await options.credential.getToken(REDIS_ENTRA_SCOPE);
      if (!token?.token) throw new Error("the credential returned no token");
      if (closed) return;
      accept(token);
    } catch (error) {
      if (closed) return;
      failed(error);
    } finally {
      fetching = false;
    }
  }

  function accept(token: AccessToken): void {
    const first = current === undefined;
    current = token;
    failures = 0;
    // Every later connect (ioredis reconnects by itself) authenticates with this token.
    redis.options.password = token.token;
    const expiresOn = new Date(token.expiresOnTimestamp).toISOString();
    if (first) {
      logger.debug("redis access token acquired", { expiresOn });
      tokenArrived();
    } else {
      reauthenticate(token.token, expiresOn);
    }
    schedule(Math.max(token.expiresOnTimestamp - marginMs - now(), minDelayMs));
  }

  function reauthenticate(token: string, expiresOn: string): void {
    // While reconnecting there is no connection to re-authenticate: the next one uses the options.
    // "connecting": the handshake already carries the old token, so AUTH waits in the offline queue
    // and goes first once the connection is ready.
    const status = redis.status;
    if (status !== "ready" && status !== "connect" && status !== "connecting") {
      logger.info("redis access token refreshed; the next connection uses it", { expiresOn, status });
      return;
    }
    redis.auth(username, token).then(
      () => logger.info("redis connection re-authenticated with a refreshed token", { expiresOn }),
      (error: unknown) => {
        scrubAuthArguments(error);
        if (closed) return;
        logger.warn("redis re-authentication failed; the next connection uses the refreshed token", {
          error: describe(error),
        });
      },
    );
  }

  function failed(error: unknown): void {
    failures += 1;
    const delay = Math.min(minDelayMs * 2 ** Math.min(failures - 1, 20), maxRetryDelayMs);
    const at = now();
    const expired = current === undefined || current.expiresOnTimestamp <= at;
    if (current === undefined) settleReady(error);
    if (failures === 1 || at - lastTokenFailureLog >= errorLogIntervalMs) {
      lastTokenFailureLog = at;
      const fields = { error: describe(error), attempt: failures, retryInMs: delay };
      if (expired) logger.error("redis access token could not be acquired and no valid token is left", fields);
      else logger.warn("redis access token could not be refreshed; the current one is still valid", fields);
    }
    schedule(delay);
  }

  void refresh();
  redis.connect().catch(noop);

  return {
    redis,
    ready,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      tokenAbandoned(new Error("the redis client was closed"));
      settleReady(new Error("the redis client was closed before it was ready"));
      if (redis.status === "end") {
        redis.closedByOwner = true;
        return;
      }
      let endTimer: NodeJS.Timeout | undefined;
      const ended = new Promise<void>((resolve) => {
        redis.once("end", () => resolve());
        // ioredis emits no "end" when disconnected between two reconnect attempts (its issue #1247);
        // it then only has the grace timer of the dead socket left, which this outlasts.
        endTimer = setTimeout(resolve, disconnectGraceMs + 50);
      });
      if (redis.status === "ready") {
        const quitting = redis.quit();
        redis.closedByOwner = true;
        try {
          await quitting;
        } catch {
          redis.disconnect();
        }
      } else {
        redis.disconnect();
        redis.closedByOwner = true;
      }
      await ended;
      clearTimeout(endTimer);
    },
  };
}

/** Its first connect waits until the token it authenticates with has arrived. */
class EntraRedis extends Redis {
  /** Set by close(): ioredis would otherwise queue commands while it sits between reconnect attempts. */
  closedByOwner = false;
  private pendingFirstConnect: Promise<void> | undefined;

  constructor(
    options: RedisOptions,
    private readonly tokenReady: () => Promise<void>,
  ) {
    super(options);
  }

  override sendCommand(...args: Parameters<Redis["sendCommand"]>): unknown {
    const [command] = args;
    if (this.closedByOwner) {
      command.reject(new Error("Connection is closed."));
      return command.promise;
    }
    return super.sendCommand(...args);
  }

  // ioredis calls connect() for the first command while lazy, and again on every reconnect.
  override connect(callback?: Callback<void>): Promise<void> {
    // ioredis defaults the password to null; a string is the token accept() put there.
    if (typeof this.options.password === "string") return super.connect(callback);
    // ioredis sets `condition` in its connect; while the first one waits, queued commands read it.
    this.condition ??= { select: this.options.db ?? 0, subscriber: false };
    this.pendingFirstConnect ??= this.tokenReady().then(() => super.connect());
    const pending = this.pendingFirstConnect;
    if (callback)
      pending
        .then(
          () => callback(null),
          (error: Error) => callback(error),
        )
        .catch(noop);
    return pending;
  }
}

function isAuthError(error: Error): boolean {
  return /^(WRONGPASS|NOAUTH)\b/.test(error.message) || /invalid username-password/i.test(error.message);
}

/**
 * ioredis attaches the failed command with its arguments to a reply error; for AUTH those are the
 * user name and the token, which must not travel on in an error that someone may log.
 */
function scrubAuthArguments(error: unknown): void {
  if (typeof error !== "object" || error === null || !("command" in error)) return;
  const command = (error as { command?: { name?: unknown; args?: unknown[] } }).command;
  if (command && typeof command.name === "string" && command.name.toLowerCase() === "auth" && Array.isArray(command.args)) {
    command.args = command.args.map((arg, index) => (index === command.args!.length - 1 ? "***" : arg));
  }
}
