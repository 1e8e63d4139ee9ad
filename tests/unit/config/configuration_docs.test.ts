import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/config.js";
import { renderConfigurationDocs } from "../../../src/config/configuration_docs.js";
import { settingsIn } from "../../../src/config/setting.js";

const docsFile = join(import.meta.dirname, "..", "..", "..", "docs", "configuration.md");

describe("docs/configuration.md", () => {
  it("is what `npm run docs:config` generates from the configuration's schema (run it after changing a setting)", () => {
    expect(readFileSync(docsFile, "utf8")).toBe(renderConfigurationDocs());
  });

  it("has a row for every setting the schema reads, plugins' own included, each with a default, a local and an Azure value, and a meaning", () => {
    const names = settingsIn(configSchema).map((setting) => setting.name);
    expect(names.length).toBeGreaterThan(60);
    expect(names).toEqual(expect.arrayContaining(["PORT", "AUTH_MODE", "PLUGIN_POLICY", "SHELL_PLUGIN_ALLOWED_COMMANDS", "HF_TOKEN"]));
    const rows = renderConfigurationDocs()
      .split("\n")
      .filter((line) => line.startsWith("| `"));
    expect(rows.map((row) => /^\| `([A-Z0-9_]+)`/.exec(row)?.[1])).toEqual(names);
    for (const row of rows) {
      const cells = row.slice(2, -2).split(" | ");
      expect(cells, row).toHaveLength(5);
      for (const cell of cells) expect(cell.trim(), row).not.toBe("");
    }
  });

  it("takes a default from the schema where the documentation gives none", () => {
    expect(renderConfigurationDocs()).toContain("| `PORT` | `7071` | default | not used (the host listens itself) |");
  });
});
