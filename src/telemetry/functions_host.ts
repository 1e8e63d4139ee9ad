import type * as AzureFunctions from "@azure/functions";
import functionsInstrumentation from "@azure/functions-opentelemetry-instrumentation";

// CommonJS built by webpack: Node sees only its default export from an ES module.
const { AzureFunctionsInstrumentationESM } = functionsInstrumentation;

/**
 * Azure's Functions instrumentation, applied to the @azure/functions the app actually uses: the
 * copy inside the bundle, which no require hook would ever see (hence `enabled: false`, which
 * installs none). It tells the host that this worker exports its own logs
 * (WorkerOpenTelemetryEnabled, so they are not sent twice), forwards `context.log` records, and
 * runs each handler inside the host's trace context. Call it after telemetry has started: the
 * instrumentation takes its log emitter from the global provider when it is built.
 */
export function instrumentFunctionsHost(azureFunctions: Pick<typeof AzureFunctions, "app">): void {
  // It uses only `app` (setup and hooks) of the module it is given.
  new AzureFunctionsInstrumentationESM({ enabled: false }).registerAzFunc(azureFunctions as typeof AzureFunctions);
}
