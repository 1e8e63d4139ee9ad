import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "./test_services.js";

/**
 * The local host with `settings` (RATE_LIMIT_PER_MINUTE among them) over the run's real Redis and
 * Azurite, answered only once the rate limiter counts in Redis: until its connection is ready it
 * counts in the process (src/auth/rate_limiter.ts), and a burst across the switch could pass the limit.
 */
export async function startRateLimitedHost(settings: Record<string, string>): Promise<{ services: Services; host: LocalHost }> {
  const services = integrationServices({ config: integrationConfig(settings) });
  const host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  await services.memory.ping();
  return { services, host };
}
