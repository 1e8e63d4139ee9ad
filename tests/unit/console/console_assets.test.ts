import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConsoleAssets, defaultConsoleDirectory } from "../../../src/console/console_assets.js";
import { acceptsGzip, consoleContentSecurityPolicy, consoleFileResponse } from "../../../src/console/console_response.js";

let root: string;
let built: string;
const script = `console.log(${JSON.stringify("x".repeat(2000))});\n`;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "console-assets-"));
  built = join(root, "dist", "console");
  mkdirSync(join(built, "assets", "nested"), { recursive: true });
  writeFileSync(join(built, "index.html"), "<!doctype html><title>console</title>");
  writeFileSync(join(built, "assets", "index-AbC123.js"), script);
  writeFileSync(join(built, "assets", "index-Def456.css"), "body{margin:0}");
  writeFileSync(join(built, "assets", "nested", "inner.js"), "inner");
  writeFileSync(join(root, "secret.txt"), "secret");
  symlinkSync(join(root, "secret.txt"), join(built, "assets", "link.txt"));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

const noHeaders = { get: () => null };
const headers = (values: Record<string, string>) => ({ get: (name: string) => values[name.toLowerCase()] ?? null });

describe("ConsoleAssets", () => {
  it("serves the page and the built assets with their content types", async () => {
    const assets = new ConsoleAssets(built);
    expect(await assets.index()).toMatchObject({ contentType: "text/html; charset=utf-8" });
    const js = await assets.asset("index-AbC123.js");
    expect(js).toMatchObject({ contentType: "text/javascript; charset=utf-8" });
    expect(js!.body.toString()).toBe(script);
    expect(gunzipSync(js!.gzipped!).toString()).toBe(script);
    expect(await assets.asset("index-Def456.css")).toMatchObject({ contentType: "text/css; charset=utf-8", gzipped: undefined });
  });

  it.each([
    "../secret.txt",
    "..",
    ".",
    "%2e%2e",
    "..%2Fsecret.txt",
    "../../secret.txt",
    "nested/inner.js",
    "nested",
    "/etc/passwd",
    "..\\secret.txt",
    "index.html",
    "link.txt",
    "index-AbC123.js\0",
    "",
    "missing-123.js",
  ])("answers nothing for %j: only a regular file listed in assets/ is ever read", async (name) => {
    expect(await new ConsoleAssets(built).asset(name)).toBeUndefined();
  });

  it("reads nothing until asked, and each file once", async () => {
    const missing = new ConsoleAssets(join(root, "not-built"));
    expect(await missing.index()).toBeUndefined();
    expect(await missing.asset("index-AbC123.js")).toBeUndefined();

    const assets = new ConsoleAssets(built);
    const first = await assets.asset("index-AbC123.js");
    const page = await assets.index();
    unlinkSync(join(built, "assets", "index-AbC123.js"));
    unlinkSync(join(built, "index.html"));
    expect(await assets.asset("index-AbC123.js")).toBe(first);
    expect(await assets.index()).toBe(page);
  });

  it("finds a console built after the process started", async () => {
    const later = join(root, "later");
    const assets = new ConsoleAssets(later);
    expect(await assets.index()).toBeUndefined();
    mkdirSync(later);
    writeFileSync(join(later, "index.html"), "<!doctype html>");
    expect(await assets.index()).toMatchObject({ contentType: "text/html; charset=utf-8" });
  });
});

describe("consoleFileResponse", () => {
  it("sends the page with a strict Content-Security-Policy, revalidated on every load", async () => {
    const page = (await new ConsoleAssets(built).index())!;
    const response = consoleFileResponse(page, "revalidate", noHeaders);
    expect(response.status).toBe(200);
    expect(response.headers).toMatchObject({
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "content-security-policy": consoleContentSecurityPolicy,
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      etag: page.etag,
    });
    expect(consoleContentSecurityPolicy).toMatch(/default-src 'self'/);
    expect(consoleContentSecurityPolicy).toMatch(/frame-ancestors 'none'/);
    expect(consoleContentSecurityPolicy).not.toMatch(/unsafe-inline|unsafe-eval|\*|data:/);
  });

  it("marks assets immutable, compresses text when gzip is accepted, and answers 304 to a current ETag", async () => {
    const js = (await new ConsoleAssets(built).asset("index-AbC123.js"))!;
    const plain = consoleFileResponse(js, "immutable", noHeaders);
    expect(plain.headers).toMatchObject({ "cache-control": "public, max-age=31536000, immutable", vary: "accept-encoding" });
    expect(plain.headers["content-encoding"]).toBeUndefined();
    expect(Buffer.from(plain.body!).toString()).toBe(script);

    const gzipped = consoleFileResponse(js, "immutable", headers({ "accept-encoding": "br, gzip;q=0.8" }));
    expect(gzipped.headers["content-encoding"]).toBe("gzip");
    expect(gunzipSync(gzipped.body!).toString()).toBe(script);

    const notModified = consoleFileResponse(js, "immutable", headers({ "if-none-match": js.etag }));
    expect(notModified.status).toBe(304);
    expect(notModified.body).toBeUndefined();
    expect(consoleFileResponse(js, "immutable", headers({ "if-none-match": `W/"other", ${js.etag}` })).status).toBe(304);
    expect(consoleFileResponse(js, "immutable", headers({ "if-none-match": '"other"' })).status).toBe(200);
  });

  it.each([
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["GZIP;q=0.5", true],
    ["gzip;q=0", false],
    ["deflate", false],
    ["", false],
  ])("reads Accept-Encoding %j as accepting gzip: %s", (value, accepted) => {
    expect(acceptsGzip(value)).toBe(accepted);
  });
});

describe("defaultConsoleDirectory", () => {
  it("is dist/console of the package the code runs from, for either bundle and for the source", () => {
    writeFileSync(join(root, "package.json"), "{}");
    for (const file of ["dist/functions/main.js", "dist/src/host/start.js", "src/console/console_assets.ts"]) {
      expect(defaultConsoleDirectory({ moduleUrl: pathToFileURL(join(root, file)).href, cwd: "/nowhere" }), file).toBe(join(root, "dist", "console"));
    }
    // Without a module URL (a CommonJS bundle), from the working directory.
    expect(defaultConsoleDirectory({ cwd: join(root, "dist") })).toBe(join(root, "dist", "console"));
  });
});
