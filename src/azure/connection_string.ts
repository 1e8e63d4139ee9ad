/**
 * Azurite's published development account. Its key is public by design (it is printed in the
 * Azurite documentation) and only ever used against a local emulator.
 */
const azuriteAccount = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
} as const;

export interface AzuritePorts {
  readonly blob: number;
  readonly queue: number;
  readonly table: number;
}

export function azuriteConnectionString(host: string, ports: AzuritePorts): string {
  const base = (port: number) => `http://${host}:${port}/${azuriteAccount.name}`;
  return [
    "DefaultEndpointsProtocol=http",
    `AccountName=${azuriteAccount.name}`,
    `AccountKey=${azuriteAccount.key}`,
    `BlobEndpoint=${base(ports.blob)}`,
    `QueueEndpoint=${base(ports.queue)}`,
    `TableEndpoint=${base(ports.table)}`,
  ].join(";");
}

/** The SDKs for tables do not understand the `UseDevelopmentStorage=true` shortcut, so it is expanded here. */
export function expandConnectionString(connectionString: string): string {
  if (/^\s*UseDevelopmentStorage\s*=\s*true\s*;?\s*$/i.test(connectionString)) {
    return azuriteConnectionString("127.0.0.1", { blob: 10000, queue: 10001, table: 10002 });
  }
  return connectionString;
}

/** True when the connection string points at plain-HTTP endpoints (Azurite), which the SDKs refuse by default. */
export function usesPlainHttp(connectionString: string): boolean {
  return /DefaultEndpointsProtocol=http(;|$)/i.test(connectionString) || /Endpoint=http:\/\//i.test(connectionString);
}
