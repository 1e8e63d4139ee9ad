/** `npm run docs:config` writes docs/configuration.md from the configuration's schema. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renderConfigurationDocs } from "./configuration_docs.js";

const target = join(import.meta.dirname, "..", "..", "docs", "configuration.md");
const expected = renderConfigurationDocs();
if (readFileSync(target, "utf8") === expected) {
  console.log("docs/configuration.md is already up to date");
} else {
  writeFileSync(target, expected);
  console.log("wrote docs/configuration.md");
}
