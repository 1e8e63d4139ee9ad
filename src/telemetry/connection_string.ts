/**
 * Why Azure Monitor's exporter would refuse this connection string when it is built, or undefined
 * when it takes it. The exporter is built on its first export (src/telemetry/exporter_on_first_export.ts),
 * seconds after start; its rules (ConnectionStringParser and AzureMonitorBaseExporter in
 * @azure/monitor-opentelemetry-exporter) are applied here at start instead, so that a connection
 * string it would refuse fails the start, as it did when the exporter was built then, rather than
 * losing every span and log record later without a word. The message never contains the value.
 */
export function connectionStringProblem(connectionString: string): string | undefined {
  const fields = new Map<string, string>();
  for (const pair of connectionString.split(";")) {
    const parts = pair.split("=");
    // The exporter keeps only `key=value` pairs, keys in any case and not trimmed.
    if (parts.length === 2) fields.set(parts[0]!.toLowerCase(), parts[1]!);
  }
  const instrumentationKey = fields.get("instrumentationkey");
  if (!instrumentationKey) return "APPLICATIONINSIGHTS_CONNECTION_STRING has no InstrumentationKey=<key> that Azure Monitor's exporter can read";
  if (!instrumentationKeyPattern.test(instrumentationKey)) {
    return "APPLICATIONINSIGHTS_CONNECTION_STRING: its InstrumentationKey must be a GUID in lower case, as Azure Monitor's exporter requires";
  }
  return undefined;
}

const instrumentationKeyPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
