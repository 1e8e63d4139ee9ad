import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configSchema } from "../../../src/config/config.js";
import { settingsIn } from "../../../src/config/setting.js";

const root = join(import.meta.dirname, "..", "..", "..");

describe("the configuration table (docs/configuration.md)", () => {
  it("documents every setting the config module reads, with a local and an Azure value", () => {
    const readme = readFileSync(join(root, "docs", "configuration.md"), "utf8");
    const table = readme.slice(readme.indexOf("| setting | default | locally | in Azure"), readme.indexOf("\n\n", readme.indexOf("| setting | default | locally")));
    const settings = settingsIn(configSchema).map((setting) => setting.name);
    expect(settings.length).toBeGreaterThan(40);
    const missing = settings.filter((name) => !table.includes(`\`${name}\``));
    expect(missing, "add these settings to the table in docs/configuration.md").toEqual([]);
    for (const row of table.split("\n").slice(2)) expect(row.split(" | ")).toHaveLength(5);
  });
});
