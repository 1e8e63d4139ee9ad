import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");

/** The setting names of environmentSchema: the keys of its z.object({...}), four spaces in. */
function configSettings(): string[] {
  const source = readFileSync(join(root, "src", "config", "config.ts"), "utf8");
  const start = source.indexOf("const environmentSchema = z");
  const body = source.slice(start, source.indexOf(".superRefine(", start));
  return [...body.matchAll(/^ {4}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
}

describe("the configuration table (docs/configuration.md)", () => {
  it("documents every setting the config module reads, with a local and an Azure value", () => {
    const readme = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    const table = readme.slice(readme.indexOf("| setting | default | locally | in Azure"), readme.indexOf("\n\n", readme.indexOf("| setting | default | locally")));
    const settings = configSettings();
    expect(settings.length).toBeGreaterThan(40);
    const missing = settings.filter((name) => !table.includes(`\`${name}\``));
    expect(missing, "add these settings to the table in docs/configuration.md").toEqual([]);
    for (const row of table.split("\n").slice(2)) expect(row.split(" | ")).toHaveLength(5);
  });
});
