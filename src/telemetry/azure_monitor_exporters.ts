// The Azure Monitor exporters by name, so that the bundle splits them (with what they import) from
// the sampler that src/telemetry/telemetry.ts takes from the same package at start: this module is
// imported on the first export only.
export { AzureMonitorLogExporter, AzureMonitorTraceExporter } from "@azure/monitor-opentelemetry-exporter";
