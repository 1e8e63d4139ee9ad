import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { consoleContentSecurityPolicy } from "../../src/console/console_response.js";
import { callApi } from "../support/api_client.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The web console as served by the app (GET /api/console and its assets), over real HTTP, with the
 * files `npm run build` made (the global setup builds them): headers, caching, path traversal,
 * and the size budget of the page's JavaScript and CSS.
 */
const built = join(import.meta.dirname, "..", "..", "dist", "console");
let services: Services;
let host: LocalHost;
let jwtServices: Services;
let jwtHost: LocalHost;

beforeAll(async () => {
  services = integrationServices();
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  jwtServices = integrationServices({
    config: integrationConfig({ AUTH_MODE: "jwt", AUTH_JWT_ISSUER: "https://issuer.invalid/tenant/v2.0", AUTH_JWT_AUDIENCE: "api://console-e2e" }),
  });
  jwtHost = await startLocalHost({ functions: httpFunctions, services: jwtServices, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await jwtHost?.close();
  await services?.close();
  await jwtServices?.close();
});

/** A GET with its path sent exactly as written (fetch would resolve `..` before sending), its body as it came (not decompressed). */
function rawGet(
  baseUrl: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer; text: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
      });
    });
    req.on("error", reject);
    req.end();
  });
}

/** The page's own files, as its HTML names them. */
function referencedAssets(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
}

describe("GET /api/console", () => {
  it("answers the page with a strict Content-Security-Policy, no inline script or style, and only same-origin files", async () => {
    const page = await callApi(host.url, "GET", "/api/console");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const csp = page.headers.get("content-security-policy")!;
    for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:|data:|\*/);
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    // docs/clients.md quotes the policy: it must be the one sent (its lines may wrap).
    const clientsPage = readFileSync(join(import.meta.dirname, "..", "..", "docs", "clients.md"), "utf8").replace(/\s+/g, " ");
    expect(clientsPage).toContain(`Content-Security-Policy: ${consoleContentSecurityPolicy}`);

    // Every <script> has a src and no body; no <style> element, no style or on* attribute.
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.text).not.toMatch(/<script[^>]*>[^<]+<\/script>/);
    expect(page.text).not.toMatch(/<style|\sstyle=|\son[a-z]+=/i);
    const files = referencedAssets(page.text);
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const file of files) expect(file).toMatch(/^\/api\/console\/assets\/[A-Za-z0-9._-]+$/);
  });

  it("serves every file the page names, with its content type, cached for good under its hashed name", async () => {
    const page = await callApi(host.url, "GET", "/api/console");
    const types: Record<string, string> = { js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", svg: "image/svg+xml" };
    for (const file of referencedAssets(page.text)) {
      const asset = await callApi(host.url, "GET", file);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get("content-type"), file).toBe(types[file.split(".").at(-1)!]);
      expect(asset.headers.get("cache-control"), file).toBe("public, max-age=31536000, immutable");
      expect(asset.headers.get("x-content-type-options"), file).toBe("nosniff");
      expect(asset.text, file).toBe(readFileSync(join(built, "assets", file.split("/").at(-1)!), "utf8"));
    }
  });

  it("compresses with gzip when asked, and answers 304 to a current ETag", async () => {
    const page = await callApi(host.url, "GET", "/api/console");
    const script = referencedAssets(page.text).find((file) => file.endsWith(".js"))!;
    const zipped = await rawGet(host.url, script, { "accept-encoding": "gzip" });
    expect(zipped.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(zipped.body).toString("utf8")).toBe(readFileSync(join(built, "assets", script.split("/").at(-1)!), "utf8"));
    expect(zipped.headers.vary).toMatch(/accept-encoding/);
    const etag = zipped.headers.etag as string;
    const again = await rawGet(host.url, script, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    const pageAgain = await rawGet(host.url, "/api/console", { "if-none-match": page.headers.get("etag")! });
    expect(pageAgain.status).toBe(304);
  });

  it("answers the same page with a trailing slash", async () => {
    const page = await callApi(host.url, "GET", "/api/console/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  it.each([
    "/api/console/assets/missing-0000.js",
    "/api/console/assets/index.html",
    "/api/console/assets/..%2F..%2F..%2Fpackage.json",
    "/api/console/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json",
    "/api/console/assets/..%5C..%5C..%5Cpackage.json",
    "/api/console/assets/%2Fetc%2Fpasswd",
    "/api/console/assets/../../../package.json",
    "/api/console/assets/%2e%2e/%2e%2e/%2e%2e/package.json",
    "/api/console/assets/index.html%00.js",
    "/api/console/assets/",
    "/api/console/other",
  ])("answers 404 for %s and reads nothing outside the built assets", async (path) => {
    const answer = await rawGet(host.url, path);
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.text)).toMatchObject({ status: "error", error: { code: "not_found" } });
    expect(answer.text).not.toMatch(/codexcontinue-functions|root:|<html/);
  });

  it("answers 405 to anything but GET", async () => {
    expect((await callApi(host.url, "POST", "/api/console", { body: {} })).status).toBe(405);
    expect((await callApi(host.url, "DELETE", "/api/console/assets/x.js")).status).toBe(405);
  });

  it("loads without a token where the API asks for one (AUTH_MODE=jwt): the page is public, the API is not", async () => {
    const page = await callApi(jwtHost.url, "GET", "/api/console");
    expect(page.status).toBe(200);
    const script = referencedAssets(page.text).find((file) => file.endsWith(".js"))!;
    expect((await callApi(jwtHost.url, "GET", script)).status).toBe(200);
    const plugins = await callApi(jwtHost.url, "GET", "/api/plugins");
    expect(plugins.status).toBe(401);
    expect(plugins.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});

describe("the console's size", () => {
  it("is under 100 kB of JavaScript and CSS gzipped", () => {
    const files = readdirSync(join(built, "assets")).filter((name) => /\.(js|css)$/.test(name));
    expect(files.some((name) => name.endsWith(".js"))).toBe(true);
    expect(files.some((name) => name.endsWith(".css"))).toBe(true);
    const sizes = Object.fromEntries(files.map((name) => [name, gzipSync(readFileSync(join(built, "assets", name))).length]));
    const total = Object.values(sizes).reduce((a, b) => a + b, 0);
    console.log(`console assets gzipped: ${JSON.stringify(sizes)}, total ${(total / 1024).toFixed(1)} kB`);
    expect(total).toBeLessThan(100 * 1024);
  });
});
