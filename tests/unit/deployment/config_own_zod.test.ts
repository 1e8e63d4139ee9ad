import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { build, type Metafile } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageOf, staticClosure } from "../../../bench/import_graph.js";
// @ts-expect-error -- esbuild.config.mjs is plain JavaScript without declarations.
import { bundleOptions } from "../../../esbuild.config.mjs";

const root = join(import.meta.dirname, "..", "..", "..");

/**
 * The shape of the Functions bundle in small: an entry that validates its configuration at load
 * with zod/mini (src/config/config.ts) and loads, on demand, code that uses classic zod. Under the
 * repository, so that zod resolves from its node_modules.
 */
let fixture: string;

beforeAll(() => {
  mkdirSync(join(root, "dist"), { recursive: true });
  fixture = mkdtempSync(join(root, "dist", "config-own-zod-"));
  mkdirSync(join(fixture, "src", "config"), { recursive: true });
  writeFileSync(join(fixture, "src", "config", "config.ts"), 'import * as z from "zod/mini";\nexport const port = z.parse(z.coerce.number(), process.env.PORT ?? "7071");\n');
  writeFileSync(join(fixture, "handler.ts"), 'import { z } from "zod";\nexport const input = z.strictObject({ text: z.string().max(10) });\n');
  writeFileSync(join(fixture, "entry.ts"), 'import { port } from "./src/config/config.js";\nexport const load = () => import("./handler.js");\nconsole.log(port);\n');
});

afterAll(() => rmSync(fixture, { recursive: true, force: true }));

async function bundle(plugins: readonly unknown[]) {
  const result = await build({ ...bundleOptions, plugins, entryPoints: [join(fixture, "entry.ts")], outdir: join(fixture, "out"), write: false, metafile: true, absWorkingDir: root });
  const metafile = result.metafile as Metafile;
  const entry = relative(root, join(fixture, "out", "entry.js"));
  const zodAtStart = staticClosure(metafile, entry)
    .flatMap((output) => Object.entries(metafile.outputs[output]!.inputs))
    .filter(([input]) => packageOf(input) === "zod");
  return { metafile, zodAtStart, zodBytesAtStart: zodAtStart.reduce((sum, [, { bytesInOutput }]) => sum + bytesInOutput, 0) };
}

describe("the configuration's own copy of zod (esbuild.config.mjs)", () => {
  it("keeps what the code loaded on demand uses of zod's core out of the entry: the configuration's zod is tree-shaken on its own", async () => {
    const { zodAtStart, zodBytesAtStart, metafile } = await bundle(bundleOptions.plugins);
    expect(zodAtStart.length).toBeGreaterThan(0);
    for (const [input] of zodAtStart) expect(input, "a zod module of the entry outside the configuration's copy").toMatch(/^config-zod:/);
    expect(zodBytesAtStart).toBeLessThan(80_000);
    // The code loaded on demand has the whole classic zod, from the shared copy.
    const classic = Object.keys(metafile.inputs).filter((input) => input.includes("node_modules/zod/v4/classic/") && !input.startsWith("config-zod:"));
    expect(classic.length).toBeGreaterThan(0);
  });

  it("is what makes the difference: without it, the entry loads all of zod's core that classic zod uses", async () => {
    const without = await bundle(bundleOptions.plugins.filter((plugin: { name: string }) => plugin.name !== "config-own-zod"));
    expect(without.zodBytesAtStart).toBeGreaterThan(150_000);
  });
});
