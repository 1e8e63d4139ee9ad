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

/** Redis (or the in-process memory) and Table Storage are required; the LLM is optional until it is configured. */
export class HealthCheck {
  constructor(
    private readonly version: string,
    private readonly memory: SessionMemory,
    private readonly audit: AuditLog,
    private readonly model: ChatModel | undefined,
    private readonly logger: Logger,
  ) {}

  async check(): Promise<HealthReport> {
    const model = this.model;
    const [redis, storage, llm] = await Promise.all([
      this.probe("redis", () => this.memory.ping()),
      this.probe("storage", () => this.audit.ping()),
      model ? this.probe("llm", () => model.ping(AbortSignal.timeout(checkTimeoutMs))) : Promise.resolve<CheckStatus>("not_configured"),
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
