import type * as AzureFunctions from "@azure/functions";
import { context, propagation } from "@opentelemetry/api";
import { logs, SeverityNumber } from "@opentelemetry/api-logs";

/**
 * What Azure's Functions instrumentation (@azure/functions-opentelemetry-instrumentation) sets up,
 * applied to the @azure/functions the app actually uses, the copy inside the bundle: it tells the
 * host that this worker exports its own logs (WorkerOpenTelemetryEnabled, so they are not sent
 * twice), forwards `context.log` records, and runs each handler inside the host's trace context.
 * That package does these three things through OpenTelemetry's instrumentation base class, which
 * brings require and import hooks, a module resolver and semver (about 140 kB, most of what
 * telemetry still read at start; bench/README.md, "Cold start") to patch modules loaded from
 * node_modules, which the bundle never is; so they are done here. Call it after telemetry has
 * started: the log records go to the global logger provider.
 */
export function instrumentFunctionsHost(azureFunctions: Pick<typeof AzureFunctions, "app">): void {
  const { app } = azureFunctions;
  app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  // The instrumentation's scope, as the package names it, so that the records look as they did.
  const logger = logs.getLogger("@azure/functions-opentelemetry-instrumentation", "0.2.0");
  app.hook.log(({ message, level }) => {
    logger.emit({ body: message, severityNumber: severityOf[level] ?? SeverityNumber.UNSPECIFIED, severityText: level });
  });
  app.hook.preInvocation((invocation) => {
    const traceContext = invocation.invocationContext.traceContext;
    if (!traceContext) return;
    const hostContext = propagation.extract(context.active(), { traceparent: traceContext.traceParent, tracestate: traceContext.traceState });
    invocation.functionHandler = context.bind(hostContext, invocation.functionHandler);
  });
}

const severityOf: Partial<Record<AzureFunctions.LogLevel, SeverityNumber>> = {
  trace: SeverityNumber.TRACE,
  debug: SeverityNumber.DEBUG,
  information: SeverityNumber.INFO,
  warning: SeverityNumber.WARN,
  error: SeverityNumber.ERROR,
  critical: SeverityNumber.FATAL,
};
