// npm run infra:build — compiles infra/main.bicep (and through it every module) to check it, with
// the Bicep CLI when it is on PATH, else with the Azure CLI's `az bicep`. Exits with the compiler's
// status. Without either it says so in one line and exits 0: the templates are then checked only as
// text, by tests/unit/infra.
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const template = join(dirname(fileURLToPath(import.meta.url)), "main.bicep");

/** The full path of an executable on PATH (with Windows' extensions), or undefined. */
function onPath(command) {
  const extensions = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE;.CMD;.BAT").split(";") : [""];
  for (const folder of (process.env.PATH ?? "").split(delimiter)) {
    if (!folder) continue;
    for (const extension of extensions) {
      const candidate = join(folder, command + extension);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const bicep = onPath("bicep");
const az = bicep ? undefined : onPath("az");

if (!bicep && !az) {
  console.log("infra:build: Bicep is not installed (neither `bicep` nor `az` is on PATH); the templates were not compiled.");
  process.exit(0);
}

// --stdout: compile to standard output (discarded), so that no main.json is left behind.
const [executable, args] = bicep ? [bicep, ["build", template, "--stdout"]] : [az, ["bicep", "build", "--file", template, "--stdout"]];

const result = spawnSync(executable, args, { stdio: ["ignore", "ignore", "inherit"], shell: process.platform === "win32" });
if (result.error) {
  console.error(`infra:build: could not run ${executable}: ${result.error.message}`);
  process.exit(1);
}
if (result.status === 0) console.log(`infra:build: ${template} compiled with ${bicep ? "bicep" : "az bicep"}.`);
process.exit(result.status ?? 1);
