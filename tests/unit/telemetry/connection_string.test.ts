import { AzureMonitorTraceExporter } from "@azure/monitor-opentelemetry-exporter";
import { beforeAll, describe, expect, it } from "vitest";
import { connectionStringProblem } from "../../../src/telemetry/connection_string.js";
import { startTelemetry } from "../../../src/telemetry/telemetry.js";

const key = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
const endpoint = "https://westeurope-5.in.applicationinsights.azure.com/";

/** Connection strings as they are written, and as they are mistyped. */
const connectionStrings = [
  `InstrumentationKey=${key};IngestionEndpoint=${endpoint}`,
  `InstrumentationKey=${key}`,
  `instrumentationkey=${key};IngestionEndpoint=${endpoint};LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=abc`,
  `IngestionEndpoint=${endpoint};InstrumentationKey=${key};`,
  `InstrumentationKey=${key};IngestionEndpoint=https://example.test/?a=b`,
  `InstrumentationKey=${key.toUpperCase()};IngestionEndpoint=${endpoint}`,
  `InstrumentationKey=not-a-guid;IngestionEndpoint=${endpoint}`,
  `InstrumentationKey=;IngestionEndpoint=${endpoint}`,
  `IngestionEndpoint=${endpoint}; InstrumentationKey=${key}`,
  `InstrumentationKey=${key}=;IngestionEndpoint=${endpoint}`,
  `InstrumentationKey=${key} ;IngestionEndpoint=${endpoint}`,
  `{${key}}`,
];

beforeAll(() => {
  // The exporters built below must not start their usage statistics (Microsoft's endpoints are out of reach here); this file runs in a process of its own.
  process.env.APPLICATION_INSIGHTS_NO_STATSBEAT = "true";
});

describe("the connection string, checked at start as Azure Monitor's exporter checks it when built", () => {
  it.each(connectionStrings)("takes %s exactly when the exporter does", async (connectionString) => {
    let refusedByExporter = false;
    try {
      await new AzureMonitorTraceExporter({ connectionString, disableOfflineStorage: true }).shutdown();
    } catch {
      refusedByExporter = true;
    }
    expect(connectionStringProblem(connectionString) !== undefined).toBe(refusedByExporter);
  });

  it("the set above has connection strings that the exporter takes and ones it refuses", () => {
    const refused = connectionStrings.filter((connectionString) => connectionStringProblem(connectionString) !== undefined);
    expect(refused.length).toBeGreaterThan(2);
    expect(refused.length).toBeLessThan(connectionStrings.length - 2);
  });

  it("fails the start on one the exporter would refuse, naming the setting and not its value", () => {
    const connectionString = `InstrumentationKey=${key.toUpperCase()};IngestionEndpoint=${endpoint}`;
    const start = () => startTelemetry({ connectionString, authentication: { kind: "instrumentationKey" } });
    expect(start).toThrow(/APPLICATIONINSIGHTS_CONNECTION_STRING: its InstrumentationKey must be a GUID in lower case/);
    expect(start).not.toThrow(new RegExp(key, "i"));
  });
});
