import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * A too-large upload from Node's own `fetch` (undici), over real sockets: the client sends the
 * whole body without reading while it uploads, so it only sees the 413 if the host keeps reading
 * (lingering close) until the upload is in; a host that closes early makes the client fail with
 * EPIPE or ECONNRESET instead. A separate host from local_host_guards.test.ts, because this one
 * must run with the default MAX_BODY_BYTES (1 MiB), which is what a user meets.
 */

const tries = 50;
const uploadBytes = 3 * 1024 * 1024;
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig() });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host.close();
  await services.close();
});

describe("a 3 MiB upload over the default 1 MiB limit", () => {
  it(`is answered 413 payload_too_large on ${tries} fetches in a row, never a broken pipe or a reset`, async () => {
    expect(services.config.http.maxBodyBytes).toBe(1024 * 1024);
    const body = Buffer.alloc(uploadBytes, 120);
    const failures: string[] = [];
    // One after another, as a client retrying would: a race the host loses only sometimes shows up over many tries.
    for (let attempt = 1; attempt <= tries; attempt++) {
      try {
        const response = await fetch(`${host.url}/api/plugins/execute`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(5000),
        });
        const answer = (await response.json()) as { error?: { code?: string } };
        if (response.status !== 413 || answer.error?.code !== "payload_too_large") {
          failures.push(`try ${attempt}: ${response.status} ${JSON.stringify(answer)}`);
        }
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        failures.push(`try ${attempt}: ${String(error)} (${cause?.code ?? cause?.message ?? "no cause"})`);
      }
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
