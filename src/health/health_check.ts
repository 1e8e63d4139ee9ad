import { TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import { z } from "zod";
import { describeThrown } from "../errors/app_error.js";
import type { ChatModel } from "../llm/chat_model.js";
import type { Logger } from "../logging/logger.js";
import type { SessionMemory } from "../memory/session_memory.js";

const checkStatus = z.enum(["ok", "down", "not_configured"]);

type CheckStatus = z.infer<typeof checkStatus>;

/** `GET /api/health`. */
export const healthReportSchema = z
  .object({
    /**
     * "degraded": the required dependencies are up, but the configured LLM is not (chat /run still
     * works) or storage has lost something the next write creates again. Answered 200; "unhealthy" 503.
     */
    status: z.enum(["ok", "degraded", "unhealthy"]).meta({
      description:
        "`degraded`: Redis and storage are up, but the configured language model is not, or storage has lost something the app writes (`checks.storage.missing`).",
    }),
    version: z.string(),
    checks: z.object({
      redis: z.object({ status: checkStatus, kind: z.string() }),
      /**
       * Storage as health sees it. "degraded": reachable, but a table, queue or container the app writes
       * has gone missing (`missing` names each); the next write creates it again, so the app still serves.
       */
      storage: z.object({
        status: z.enum(["ok", "degraded", "down"]),
        missing: z.array(z.string()).optional().meta({
          description:
            "With `degraded`: each table, queue or container the app writes that has gone missing since it was seen (`table pluginruns`); the next write creates it again.",
        }),
      }),
      llm: z.object({ status: checkStatus, provider: z.string().optional(), model: z.string().optional() }),
    }),
  })
  .meta({ id: "HealthReport" });

export type HealthReport = z.infer<typeof healthReportSchema>;

type StorageCheck = HealthReport["checks"]["storage"];

/** What health asks of storage (src/azure/storage_probe.ts); it throws when storage cannot be reached. */
export interface StorageProbe {
  /** The tables, queue and container the app writes that have gone missing (`table auditlog`). */
  missing(): Promise<readonly string[]>;
}

const checkTimeoutMs = 3000;

/**
 * How long one report answers every caller. The route is anonymous, so without this a flood of
 * health calls would become a flood of storage reads and Redis PINGs; one second keeps an outage
 * visible to a platform probe (which polls every few seconds) almost at once.
 */
export const healthReportTtlMs = 1000;

/** Redis (or the in-process memory) and Table Storage are required; the LLM is optional until it is configured. */
export class HealthCheck {
  constructor(
    private readonly version: string,
    private readonly memory: SessionMemory,
    private readonly storage: StorageProbe,
    private readonly model: ChatModel | undefined,
    private readonly logger: Logger,
    private readonly reportTtlMs: number = healthReportTtlMs,
    private readonly now: () => number = Date.now,
  ) {}

  private cached: { report: HealthReport; at: number } | undefined;
  private inFlight: Promise<HealthReport> | undefined;

  /** The latest report while it is younger than the TTL; concurrent callers share one probe. */
  check(): Promise<HealthReport> {
    const cached = this.cached;
    if (cached && this.now() - cached.at < this.reportTtlMs) return Promise.resolve(cached.report);
    this.inFlight ??= this.probeAll()
      .then((report) => {
        // The age counts from when the probe finished, so a slow (timed-out) probe is not redone at once.
        this.cached = { report, at: this.now() };
        return report;
      })
      .finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async probeAll(): Promise<HealthReport> {
    const model = this.model;
    const [redis, missing, llm] = await Promise.all([
      this.probe("redis", () => this.memory.ping()),
      this.probe("storage", () => this.storage.missing()),
      model ? this.probe("llm", (signal) => model.ping(signal)) : undefined,
    ]);
    const storage: StorageCheck =
      missing === "down" ? { status: "down" } : missing.length > 0 ? { status: "degraded", missing: [...missing] } : { status: "ok" };
    const healthy = redis !== "down" && storage.status !== "down";
    return {
      status: !healthy ? "unhealthy" : llm === "down" || storage.status === "degraded" ? "degraded" : "ok",
      version: this.version,
      checks: {
        redis: { status: upOrDown(redis), kind: this.memory.kind },
        storage,
        llm: model ? { status: upOrDown(llm), provider: model.provider, model: model.model } : { status: "not_configured" },
      },
    };
  }

  // Aggressive: a probe that hangs is answered "down" at the deadline; one that can stop (the LLM's) gets the signal.
  private readonly deadline = timeout(checkTimeoutMs, TimeoutStrategy.Aggressive);

  /** What the probe found, or "down" when it failed or did not answer in time. */
  private async probe<T>(name: string, ping: (signal: AbortSignal) => Promise<T>): Promise<T | "down"> {
    try {
      return await this.deadline.execute(({ signal }) => ping(signal));
    } catch (error) {
      const reason = error instanceof TaskCancelledError ? `no answer within ${checkTimeoutMs} ms` : describeThrown(error);
      this.logger.warn("health check failed", { check: name, error: reason });
      return "down";
    }
  }
}

function upOrDown(probed: unknown): CheckStatus {
  return probed === "down" ? "down" : "ok";
}
