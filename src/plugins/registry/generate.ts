/** `npm run plugins:generate` writes plugins/index.ts; `-- --check` only reports whether it is current. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RegistryError, registryFileName, renderRegistry, scanPluginFolder } from "./registry_source.js";

const folder = join(import.meta.dirname, "..", "..", "..", "plugins");
const target = join(folder, registryFileName);

try {
  const expected = renderRegistry(scanPluginFolder(folder));
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // No registry yet: it is written below.
  }
  if (process.argv.includes("--check")) {
    if (current !== expected) {
      console.error("plugins/index.ts is out of date: run `npm run plugins:generate` and commit the result");
      process.exit(1);
    }
    console.log("plugins/index.ts is up to date");
  } else if (current !== expected) {
    writeFileSync(target, expected);
    console.log("wrote plugins/index.ts");
  } else {
    console.log("plugins/index.ts is already up to date");
  }
} catch (error) {
  console.error(error instanceof RegistryError ? error.message : error);
  process.exit(1);
}
