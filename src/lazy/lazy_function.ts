/**
 * A function of the app as the Functions host is told of it at start: its route or trigger, and
 * how to load its code. The entry (functions/main.ts) imports nothing but these, so that a new
 * instance registers every function without parsing any handler, schema or service; each
 * function's module is a chunk of its own (a dynamic `import()`, esbuild.config.mjs), read on the
 * function's first invocation. Only types are imported here: this module is part of the entry.
 */
import type { HttpFunction, HttpHandler, HttpRoute } from "../http/http_function.js";
import type { QueueFunction, QueueHandler, QueueTrigger } from "../runs/queue_function.js";
import { memoize } from "./deferred.js";

export interface LazyHttpFunction extends HttpRoute {
  /** The function's code bound to this route: loaded on the first call, shared by later ones; a failed load is tried again by the next call. */
  readonly load: () => Promise<HttpFunction>;
}

export interface LazyQueueFunction extends QueueTrigger {
  /** As LazyHttpFunction's. */
  readonly load: () => Promise<QueueFunction>;
}

/**
 * `route` is the one place the function's name, methods, route and access are written; its module
 * exports only the handler. The type checker holds the two together: a `public` route takes only a
 * handler made by definePublicHttpFunction, a `caller` route one made by defineHttpFunction.
 */
export function lazyHttpFunction<Access extends HttpRoute["access"]>(
  route: HttpRoute & { readonly access: Access },
  load: () => Promise<HttpHandler<Access>>,
): LazyHttpFunction {
  return { ...route, load: memoize(async () => (await load()).bind(route)) };
}

export function lazyQueueFunction(trigger: QueueTrigger, load: () => Promise<QueueHandler>): LazyQueueFunction {
  return { ...trigger, load: memoize(async () => (await load()).bind(trigger)) };
}
