import type * as AzureFunctions from "@azure/functions";
import type { TelemetryConfig } from "../config/config.js";
import { telemetryDisabled, type Telemetry } from "./telemetry_handle.js";

/**
 * Starts telemetry when it is configured. The OpenTelemetry trace and log SDKs
 * (src/telemetry/telemetry.ts) are imported only then, a chunk of their own in the bundle: an
 * instance without the setting never reads them; the Azure Monitor exporters behind them are read
 * later still, on their first export. Given the Functions programming model (`functionsHost`),
 * also hooks the host's trace context and log forwarding in.
 */
export async function startConfiguredTelemetry(config: TelemetryConfig | undefined, functionsHost?: Pick<typeof AzureFunctions, "app">): Promise<Telemetry> {
  if (!config) return telemetryDisabled;
  // Both chunks are read together rather than one after the other; the hooks still go in after the start.
  const [{ startTelemetry }, hooks] = await Promise.all([import("./telemetry.js"), functionsHost ? import("./functions_host.js") : undefined]);
  const telemetry = startTelemetry(config);
  if (functionsHost) hooks?.instrumentFunctionsHost(functionsHost);
  return telemetry;
}
