/**
 * The import graph of a build, read from esbuild's metafile: which output files an entry loads
 * statically (at import, before any code of it runs) and which only on demand (`import()`), and
 * which sources (npm packages) each of those files contains. Used by the cold-start row of the
 * benchmark and by tests/unit/deployment/import_graph.test.ts.
 */
import type { Metafile } from "esbuild";

/** Every output file `entry` loads at import: itself and, transitively, its static imports (not its `import()`s). */
export function staticClosure(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const visit = (output: string) => {
    if (seen.has(output)) return;
    const file = metafile.outputs[output];
    if (!file) throw new Error(`${output} is not an output of this build`);
    seen.add(output);
    for (const imported of file.imports) {
      if (imported.kind === "import-statement" && !imported.external) visit(imported.path);
    }
  };
  visit(entry);
  return [...seen];
}

/** The output files that some file of `outputs` loads with `import()`, and that are not among `outputs` themselves. */
export function dynamicImports(metafile: Metafile, outputs: readonly string[]): string[] {
  const loaded = new Set(outputs);
  const found = new Set<string>();
  for (const output of outputs) {
    for (const imported of metafile.outputs[output]!.imports) {
      if (imported.kind === "dynamic-import" && !imported.external && !loaded.has(imported.path)) found.add(imported.path);
    }
  }
  return [...found];
}

/** The npm package a source path belongs to (`node_modules/@azure/identity/...` → `@azure/identity`), or undefined for the app's own sources. */
export function packageOf(input: string): string | undefined {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(input);
  return match?.[1];
}

/** Bytes of output per npm package (or "(app)") in `outputs`. */
export function packagesIn(metafile: Metafile, outputs: readonly string[]): Map<string, number> {
  const bytes = new Map<string, number>();
  for (const output of outputs) {
    for (const [input, { bytesInOutput }] of Object.entries(metafile.outputs[output]!.inputs)) {
      const name = packageOf(input) ?? "(app)";
      bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    }
  }
  return bytes;
}

/** Total size in bytes of `outputs`. */
export function outputBytes(metafile: Metafile, outputs: readonly string[]): number {
  return outputs.reduce((sum, output) => sum + metafile.outputs[output]!.bytes, 0);
}
