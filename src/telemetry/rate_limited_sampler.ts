/**
 * Azure Monitor's rate-limited sampler (the distro's default), from its own file in
 * @azure/monitor-opentelemetry-exporter rather than from the package's index: every span needs it
 * at start, while the exporters in the same package are loaded on their first export
 * (src/telemetry/azure_monitor_exporters.ts). With both taken from the index, esbuild's code
 * splitting puts the index and the exporters it re-exports in a chunk that start reads, so the
 * exporters with Azure's HTTP pipeline and the metrics SDK would be loaded at start after all.
 * The path is outside the package's `exports`: a version that moves the file fails the type check
 * and the build, never the running app.
 */
export { RateLimitedSampler } from "../../node_modules/@azure/monitor-opentelemetry-exporter/dist/esm/sampling/rateLimitedSampler.js";
