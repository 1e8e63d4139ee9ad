/**
 * `npm run plugins:generate` writes plugins/index.ts (the registry) and plugins/manifest.ts (what
 * the Functions entry registers of each plugin without loading it); `-- --check` only reports
 * whether they are current. `npm run build` runs it first, so a bundle never has a stale manifest.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readManifestSources, renderManifest } from "./manifest_source.js";
import { manifestFileName, RegistryError, registryFileName, renderRegistry, scanPluginFolder } from "./registry_source.js";

const folder = join(import.meta.dirname, "..", "..", "..", "plugins");
const check = process.argv.includes("--check");

/** Writes `expected` to plugins/<file> unless it is there already; with --check, only says whether it is. */
function update(file: string, expected: string): boolean {
  const target = join(folder, file);
  let current = "";
  try {
    current = readFileSync(target, "utf8");
  } catch {
    // Not written yet: it is written below.
  }
  if (current === expected) {
    console.log(`plugins/${file} is up to date`);
    return true;
  }
  if (check) {
    console.error(`plugins/${file} is out of date: run \`npm run plugins:generate\` and commit the result`);
    return false;
  }
  writeFileSync(target, expected);
  console.log(`wrote plugins/${file}`);
  return true;
}

try {
  const registryCurrent = update(registryFileName, renderRegistry(scanPluginFolder(folder)));
  // Imported after it is written: the manifest describes the plugins the registry now lists.
  const { pluginClasses } = (await import(pathToFileURL(join(folder, registryFileName)).href)) as typeof import("../../../plugins/index.js");
  const manifestCurrent = update(manifestFileName, renderManifest(await readManifestSources(folder, pluginClasses)));
  if (!registryCurrent || !manifestCurrent) process.exit(1);
} catch (error) {
  console.error(error instanceof RegistryError ? error.message : error);
  process.exit(1);
}
