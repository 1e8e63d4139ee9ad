import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

/**
 * The web console's built files (`npm run build` → dist/console: index.html and assets/ with
 * content-hashed names), served by the app itself. Nothing is read when the app starts and
 * nothing is bundled into the functions bundle: the files are read from disk on their first
 * request and kept in memory (with their gzip form) for the life of the process.
 *
 * A request names an asset by one path segment, and only a name that is in the listing of
 * assets/ (regular files only) is ever read: no path is built from what the caller sent, so
 * `..`, encoded slashes, absolute paths and symbolic links lead nowhere.
 */
export interface ConsoleFile {
  readonly body: Buffer;
  /** The body gzip-compressed, for text types; undefined where compression does not pay. */
  readonly gzipped: Buffer | undefined;
  readonly contentType: string;
  /** A strong validator: a hash of the body. */
  readonly etag: string;
}

/** What a built asset may be called: Vite's `name-hash.ext`. */
export const assetNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

const contentTypes: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

const compressible = /^(?:text\/|image\/svg\+xml|application\/json)/;

export class ConsoleAssets {
  private page: Promise<ConsoleFile> | undefined;
  private listing: Promise<ReadonlySet<string>> | undefined;
  private readonly files = new Map<string, Promise<ConsoleFile>>();

  /** `directory`: the built console, holding index.html and assets/. */
  constructor(readonly directory: string) {}

  /** index.html; undefined when the console has not been built. */
  async index(): Promise<ConsoleFile | undefined> {
    this.page ??= loadFile(join(this.directory, "index.html"));
    try {
      return await this.page;
    } catch (error) {
      // Not built (yet): asked again next time, so that a build made while the process runs is found.
      this.page = undefined;
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  /** One file of assets/ by its name; undefined for any name that is not a built asset. */
  async asset(name: string): Promise<ConsoleFile | undefined> {
    if (!assetNamePattern.test(name)) return undefined;
    const names = await this.assetNames();
    if (!names.has(name)) return undefined;
    let file = this.files.get(name);
    if (!file) {
      file = loadFile(join(this.directory, "assets", name));
      this.files.set(name, file);
      file.catch(() => this.files.delete(name));
    }
    return file;
  }

  private async assetNames(): Promise<ReadonlySet<string>> {
    this.listing ??= readdir(join(this.directory, "assets"), { withFileTypes: true }).then(
      (entries) => new Set(entries.filter((entry) => entry.isFile() && assetNamePattern.test(entry.name)).map((entry) => entry.name)),
    );
    try {
      return await this.listing;
    } catch (error) {
      this.listing = undefined;
      if (isMissing(error)) return new Set();
      throw error;
    }
  }
}

async function loadFile(path: string): Promise<ConsoleFile> {
  const body = await readFile(path);
  const contentType = contentTypes[extname(path).toLowerCase()] ?? "application/octet-stream";
  const gzipped = compressible.test(contentType) && body.length > 256 ? gzipSync(body, { level: 9 }) : undefined;
  const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
  return { body, gzipped: gzipped && gzipped.length < body.length ? gzipped : undefined, contentType, etag };
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * Where `npm run build` put the console: dist/console of the package this code runs from, found
 * by walking up from this module (in the Functions bundle a chunk under dist/chunks/, loaded with
 * the console functions; dist/src/host/start.js; or the source under tests) to the folder holding
 * package.json. The deployment package and the container
 * image keep that layout (package.json beside dist/).
 */
export function defaultConsoleDirectory(from: { readonly moduleUrl?: string; readonly cwd?: string } = { moduleUrl: import.meta.url }): string {
  const cwd = from.cwd ?? process.cwd();
  // import.meta.url is undefined in a CommonJS bundle: then the working directory is the start.
  const start = from.moduleUrl ? dirname(fileURLToPath(from.moduleUrl)) : cwd;
  for (let directory = start; ; directory = dirname(directory)) {
    if (existsSync(join(directory, "package.json"))) return join(directory, "dist", "console");
    if (dirname(directory) === directory) return join(cwd, "dist", "console");
  }
}
