/**
 * The Azure Functions entry point (package.json "main", bundled to dist/functions/main.js).
 * Configuration is parsed at load, so a bad setting fails the start with one readable message.
 * Everything else waits for the first invocation: what is registered here comes from
 * registrations.ts, so loading this file parses no handler, schema, plugin or service. A function's module is loaded on its first invocation, and the services
 * (with the plugins) on the first invocation of any function, once per process.
 */
import azureFunctions, { app, type InvocationContext } from "@azure/functions";
import { loadConfig, requireStorage } from "../src/config/config.js";
import { memoize } from "../src/lazy/deferred.js";
import type { Services } from "../src/services.js";
import { startConfiguredTelemetry } from "../src/telemetry/configured_telemetry.js";
import { httpRegistrations, queueRegistrations } from "./registrations.js";

const config = loadConfig(process.env);
const storage = requireStorage(config);
// Before anything else runs, so that the first invocation is traced; nothing is started (or even loaded) without APPLICATIONINSIGHTS_CONNECTION_STRING.
const telemetry = await startConfiguredTelemetry(config.telemetry, azureFunctions);
if (config.auth.mode === "none") {
  // Only possible outside Azure (config refuses it where WEBSITE_INSTANCE_ID is set): `func start` on a developer's machine.
  const { createLogger } = await import("../src/logging/logger.js");
  createLogger(config.logLevel).warn('AUTH_MODE is none: every caller is the one principal "anonymous"; for local development only');
}
let services: Services | undefined;
const getServices = memoize(async (): Promise<Services> => {
  const [{ createServices }, { pluginClasses }] = await Promise.all([import("../src/services.js"), import("../plugins/index.js")]);
  services = createServices(config, { plugins: pluginClasses, storage });
  return services;
});

/**
 * A function's handler as the host calls it: its code and the services are loaded together on the
 * first invocation, and later invocations call straight through to the handler bound to them.
 */
function onceLoaded<Input, Output>(
  load: () => Promise<{ handler: (input: Input, context: InvocationContext, services: Services) => Promise<Output> }>,
): (input: Input, context: InvocationContext) => Promise<Output> {
  const bound = memoize(async () => {
    const [fn, ready] = await Promise.all([load(), getServices()]);
    return (input: Input, context: InvocationContext) => fn.handler(input, context, ready);
  });
  return async (input, context) => (await bound())(input, context);
}

// Chat replies and MCP answers are streamed as server-sent events.
app.setup({ enableHttpStream: true });

for (const fn of httpRegistrations) {
  app.http(fn.name, {
    methods: [...fn.methods],
    route: fn.route,
    // Callers are authenticated by the app (jwt) or by App Service Authentication (easyauth), so a
    // key is not needed; HTTP_AUTH_LEVEL=function asks for one as well. Health stays anonymous for probes.
    authLevel: fn.access === "public" ? "anonymous" : config.http.authLevel,
    handler: onceLoaded(fn.load),
  });
}

// The host delivers each message (base64-decoded, parsed when it is JSON); a handler that throws
// gets it again after host.json's visibilityTimeout, up to maxDequeueCount times, then <queue>-poison.
for (const fn of queueRegistrations) {
  app.storageQueue(fn.name, {
    queueName: fn.queueName(config),
    connection: fn.connection,
    handler: onceLoaded(fn.load),
  });
}

app.hook.appTerminate(async () => {
  await services?.close();
  // Last: the spans of the shutdown itself are exported too.
  await telemetry.shutdown();
});
