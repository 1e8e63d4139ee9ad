import type * as AzureFunctions from "@azure/functions";
import { context, propagation, trace } from "@opentelemetry/api";
import { logs, SeverityNumber } from "@opentelemetry/api-logs";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { instrumentFunctionsHost } from "../../../src/telemetry/functions_host.js";

type LogHook = Parameters<typeof AzureFunctions.app.hook.log>[0];
type PreInvocationHook = Parameters<typeof AzureFunctions.app.hook.preInvocation>[0];

/** The programming model's `app` as the instrumentation uses it: what it is set up with and the hooks it registers. */
function programmingModel() {
  const setups: AzureFunctions.SetupOptions[] = [];
  const logHooks: LogHook[] = [];
  const preInvocationHooks: PreInvocationHook[] = [];
  const disposable = { dispose() {} };
  const app = {
    setup: (options: AzureFunctions.SetupOptions) => void setups.push(options),
    hook: {
      log: (handler: LogHook) => {
        logHooks.push(handler);
        return disposable;
      },
      preInvocation: (handler: PreInvocationHook) => {
        preInvocationHooks.push(handler);
        return disposable;
      },
    },
  };
  return { app: app as unknown as typeof AzureFunctions.app, setups, logHooks, preInvocationHooks };
}

const records = new InMemoryLogRecordExporter();
let host: ReturnType<typeof programmingModel>;

beforeAll(() => {
  // What telemetry registers at start (src/telemetry/telemetry.ts); this file runs in a process of its own.
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  logs.setGlobalLoggerProvider(new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: records })] }));
  host = programmingModel();
  instrumentFunctionsHost({ app: host.app });
});

afterAll(() => {
  logs.disable();
  propagation.disable();
  context.disable();
});

describe("the Functions host instrumented", () => {
  it("tells the host that the worker exports its own logs, so that they are not sent twice", () => {
    expect(host.setups).toEqual([{ capabilities: { WorkerOpenTelemetryEnabled: true } }]);
  });

  it("emits each context.log as a log record with its level", () => {
    expect(host.logHooks).toHaveLength(1);
    const levels = [
      ["information", SeverityNumber.INFO],
      ["warning", SeverityNumber.WARN],
      ["error", SeverityNumber.ERROR],
      ["critical", SeverityNumber.FATAL],
      ["debug", SeverityNumber.DEBUG],
      ["trace", SeverityNumber.TRACE],
      ["none", SeverityNumber.UNSPECIFIED],
    ] as const;
    for (const [level] of levels) host.logHooks[0]!({ message: `a ${level} line`, level, category: "user" } as Parameters<LogHook>[0]);
    expect(records.getFinishedLogRecords().map((record) => [record.body, record.severityText, record.severityNumber])).toEqual(
      levels.map(([level, severity]) => [`a ${level} line`, level, severity]),
    );
  });

  it("runs each handler in the trace context the host invokes it with", async () => {
    expect(host.preInvocationHooks).toHaveLength(1);
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const parentSpanId = "00f067aa0ba902b7";
    const invocation = {
      invocationContext: { traceContext: { traceParent: `00-${traceId}-${parentSpanId}-01`, traceState: "vendor=value", attributes: {} } },
      functionHandler: async () => trace.getSpanContext(context.active()),
      hookData: {},
    } as unknown as Parameters<PreInvocationHook>[0];
    await host.preInvocationHooks[0]!(invocation);
    const seen = await (invocation.functionHandler as () => Promise<ReturnType<typeof trace.getSpanContext>>)();
    expect(seen).toMatchObject({ traceId, spanId: parentSpanId, isRemote: true, traceFlags: 1 });
    expect(seen?.traceState?.get("vendor")).toBe("value");
  });

  it("leaves a handler invoked without a trace context as it is", async () => {
    const handler = async () => trace.getSpanContext(context.active());
    const invocation = { invocationContext: {}, functionHandler: handler, hookData: {} } as unknown as Parameters<PreInvocationHook>[0];
    await host.preInvocationHooks[0]!(invocation);
    expect(invocation.functionHandler).toBe(handler);
  });
});
