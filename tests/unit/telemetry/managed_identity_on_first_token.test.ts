import type { IncomingMessage } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { managedIdentityOnFirstToken } from "../../../src/telemetry/telemetry.js";
import { startLoopbackServer, stopLoopbackServer } from "../../support/loopback_server.js";

/**
 * App Service's managed identity endpoint, as the platform serves it to an instance
 * (IDENTITY_ENDPOINT and IDENTITY_HEADER; api-version 2019-08-01): a stand-in on the loopback
 * interface that refuses a request without the instance's header, as the platform does.
 */
const identityHeader = "instance-secret";
const requests: IncomingMessage[] = [];
let stop: () => Promise<void>;
const saved = { endpoint: process.env.IDENTITY_ENDPOINT, header: process.env.IDENTITY_HEADER };

beforeAll(async () => {
  const { server, url } = await startLoopbackServer(async (req, res) => {
    requests.push(req);
    if (req.headers["x-identity-header"] !== identityHeader) {
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: "invalid_request" }));
      return;
    }
    const resource = new URL(req.url!, "http://127.0.0.1").searchParams.get("resource");
    const expiresOn = Math.floor(Date.now() / 1000) + 3600;
    res
      .writeHead(200, { "content-type": "application/json" })
      .end(JSON.stringify({ access_token: `token-for-${resource}`, expires_on: String(expiresOn), resource, token_type: "Bearer" }));
  });
  stop = () => stopLoopbackServer(server, new Set());
  // This file runs in a process of its own; the identity library reads these when the credential is made.
  process.env.IDENTITY_ENDPOINT = `${url}/msi/token`;
  process.env.IDENTITY_HEADER = identityHeader;
});

afterAll(async () => {
  await stop();
  process.env.IDENTITY_ENDPOINT = saved.endpoint;
  process.env.IDENTITY_HEADER = saved.header;
  if (saved.endpoint === undefined) delete process.env.IDENTITY_ENDPOINT;
  if (saved.header === undefined) delete process.env.IDENTITY_HEADER;
});

describe("the exporter's managed identity, made on its first token request", () => {
  it("asks the platform for nothing until a token is wanted, then gets it as the user-assigned identity", async () => {
    const credential = managedIdentityOnFirstToken("00000000-0000-0000-0000-000000000001");
    expect(requests).toHaveLength(0);
    const token = await credential.getToken("https://monitor.azure.com//.default");
    expect(token?.token).toBe("token-for-https://monitor.azure.com/");
    expect(requests).toHaveLength(1);
    const query = new URL(requests[0]!.url!, "http://127.0.0.1").searchParams;
    expect(query.get("client_id")).toBe("00000000-0000-0000-0000-000000000001");
  });
});
