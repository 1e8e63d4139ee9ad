import { join } from "node:path";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- esbuild.config.mjs is plain JavaScript without declarations.
import { bundleOptions } from "../../../esbuild.config.mjs";

const root = join(import.meta.dirname, "..", "..", "..");

/**
 * The Functions entry loads the configuration at import (a bad setting fails the start), so every
 * file the config module pulls in, the plugins' settings included, is parsed and evaluated by each
 * new instance before it serves anything. Classic zod cannot be tree-shaken (about 290 KB whatever
 * a schema uses) and its schemas cost more to build; zod/mini's do not (src/config/setting.ts).
 */
describe("the config module's import graph", () => {
  it("reaches zod only through zod/mini, never classic zod", async () => {
    const result = await build({
      ...bundleOptions,
      entryPoints: [join(root, "src", "config", "config.ts")],
      outdir: join(root, "dist", "config-import-graph"),
      write: false,
      metafile: true,
    });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs.filter((input) => /node_modules\/zod\/v4\/mini\//.test(input)).length, "the bundle reads zod/mini").toBeGreaterThan(0);
    expect(inputs.filter((input) => /node_modules\/zod\/(v4\/classic|v3)\//.test(input))).toEqual([]);
  });
});
