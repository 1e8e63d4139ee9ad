import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

/** One telemetry item as the Azure Monitor exporter sends it (Application Insights' "Breeze" envelope). */
export interface Envelope {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly data?: { readonly baseType?: string; readonly baseData?: Record<string, any> };
}

/**
 * Application Insights' ingestion endpoint (`POST /v2.1/track`) on loopback: a connection string
 * whose IngestionEndpoint points here makes the real exporter deliver to the test. The exporter
 * always speaks HTTPS, so this serves a throwaway self-signed certificate; the test process must
 * accept it (NODE_TLS_REJECT_UNAUTHORIZED=0, set by the test that uses this).
 */
export async function startIngestionStandIn(): Promise<{ connectionString: string; envelopes: Envelope[]; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), "ingestion-"));
  execFileSync(
    "openssl",
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"],
    { stdio: "ignore" },
  );
  const envelopes: Envelope[] = [];
  const server = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      if (req.method === "POST" && req.url?.startsWith("/v2.1/track")) {
        const items = JSON.parse(body.toString("utf8")) as Envelope[];
        envelopes.push(...items);
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ itemsReceived: items.length, itemsAccepted: items.length, errors: [] }));
        return;
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    envelopes,
    connectionString: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=${url}/;LiveEndpoint=${url}/`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
