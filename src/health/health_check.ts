import { TaskCancelledError, TimeoutStrategy, timeout } from "cockatiel";
import type { AuditLog } from "../audit/audit_event.js";
import { describeThrown } from "../errors/app_error.js";
import type { ChatModel } from "../llm/chat_model.js";
import type { Logger } from "../logging/logger.js";
import type { SessionMemory } from "../memory/session_memory.js";

export type CheckStatus = "ok" | "down" | "not_configured";

export interface HealthReport {
  /** "degraded": the required dependencies are up, the configured LLM is not (chat /run still works). */
  readonly status: "ok" | "degraded" | "unhealthy";
  readonly version: string;
  readonly checks: {
    readonly redis: { status: CheckStatus; kind: string };
    readonly storage: { status: CheckStatus };
    readonly llm: { status: CheckStatus; provider?: string; model?: string };
  };
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
    private readonly audit: AuditLog,
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
    this.inFlight ??= this.probeAll().then(
      (report) => {
        // The age counts from when the probe finished, so a slow (timed-out) probe is not redone at once.
        this.cached = { report, at: this.now() };
        return report;
      },
    ).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async probeAll(): Promise<HealthReport> {
    const model = this.model;
    const [redis, storage, llm] = await Promise.all([
      this.probe("redis", () => this.memory.ping()),
      this.probe("storage", () => this.audit.ping()),
      model ? this.probe("llm", (signal) => model.ping(signal)) : Promise.resolve<CheckStatus>("not_configured"),
    ]);
    const healthy = redis === "ok" && storage === "ok";
    return {
      status: !healthy ? "unhealthy" : llm === "down" ? "degraded" : "ok",
      version: this.version,
      checks: {
        redis: { status: redis, kind: this.memory.kind },
        storage: { status: storage },
        llm: model ? { status: llm, provider: model.provider, model: model.model } : { status: llm },
      },
    };
  }

  // Aggressive: a probe that hangs is answered "down" at the deadline; one that can stop (the LLM's) gets the signal.
  private readonly deadline = timeout(checkTimeoutMs, TimeoutStrategy.Aggressive);

  private async probe(name: string, ping: (signal: AbortSignal) => Promise<void>): Promise<CheckStatus> {
    try {
      await this.deadline.execute(({ signal }) => ping(signal));
      return "ok";
    } catch (error) {
      const reason = error instanceof TaskCancelledError ? `no answer within ${checkTimeoutMs} ms` : describeThrown(error);
      this.logger.warn("health check failed", { check: name, error: reason });
      return "down";
    }
  }
}
