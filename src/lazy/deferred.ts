/**
 * Heavy clients (storage SDKs, the LLM and Hugging Face clients, the telemetry exporter) are
 * imported on first use: a dynamic `import()` is a chunk of its own in the bundle, read only when
 * called (esbuild.config.mjs, bench/README.md "Cold start"). These two helpers give such a client
 * a synchronous handle that the services can be built with.
 */

/**
 * `load` at most once at a time: concurrent and later callers share its promise. A failed load is
 * forgotten, so that the next call tries again (a chunk that could not be read, a transient error).
 */
export function memoize<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

/** The names of T's methods that return a promise. */
export type AsyncMethodsOf<T> = { [K in keyof T]-?: T[K] extends (...args: never[]) => Promise<unknown> ? K : never }[keyof T];

/**
 * An object with T's asynchronous methods that builds the real one (`load`, once) on the first
 * call of any of them and forwards every call to it. `methods` must name every asynchronous method
 * of T (the type checker sees to it), so nothing is silently missing.
 */
export function deferred<T extends object>(load: () => Promise<T>, methods: Readonly<Record<AsyncMethodsOf<T>, true>>): T {
  const target = memoize(load);
  const handle: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(methods)) {
    handle[name] = async (...args) => {
      const real = (await target()) as Record<string, (...args: unknown[]) => Promise<unknown>>;
      return real[name]!(...args);
    };
  }
  return handle as unknown as T;
}
