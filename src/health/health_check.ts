import type { AuditLog } from "../audit/audit_event.js";
import { describeThrown } from "../errors/app_error.js";
import type { Logger } from "../logging/logger.js";
import type { SessionMemory } from "../memory/session_memory.js";

export type CheckStatus = "ok" | "down" | "not_configured";

export interface HealthReport {
  readonly status: "ok" | "unhealthy";
  readonly version: string;
  readonly checks: {
    readonly redis: { status: CheckStatus; kind: string };
    readonly storage: { status: CheckStatus };
    readonly llm: { status: CheckStatus };
  };
}

const checkTimeoutMs = 3000;

/** Redis (or the in-process memory) and Table Storage are required; the LLM is optional until it is configured. */
export class HealthCheck {
  constructor(
    private readonly version: string,
    private readonly memory: SessionMemory,
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async check(): Promise<HealthReport> {
    const [redis, storage] = await Promise.all([this.probe("redis", () => this.memory.ping()), this.probe("storage", () => this.audit.ping())]);
    const healthy = redis === "ok" && storage === "ok";
    return {
      status: healthy ? "ok" : "unhealthy",
      version: this.version,
      checks: { redis: { status: redis, kind: this.memory.kind }, storage: { status: storage }, llm: { status: "not_configured" } },
    };
  }

  private async probe(name: string, ping: () => Promise<void>): Promise<CheckStatus> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
        }),
      ]);
      return "ok";
    } catch (error) {
      this.logger.warn("health check failed", { check: name, error: describeThrown(error) });
      return "down";
    } finally {
      clearTimeout(timer);
    }
  }
}
