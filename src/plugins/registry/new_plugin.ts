/** `npm run plugin:new <name>`: scaffolds a plugin and its test, and regenerates the registry. */
import { join, relative } from "node:path";
import { scaffoldPlugin } from "./plugin_scaffold.js";

const root = join(import.meta.dirname, "..", "..", "..");
const name = process.argv[2];
if (!name) {
  console.error("usage: npm run plugin:new <name>   (lowercase snake_case, e.g. weather or web_search)");
  process.exit(2);
}
try {
  const result = scaffoldPlugin(root, name);
  console.log(`wrote ${relative(root, result.pluginFile)} (class ${result.className})`);
  console.log(`wrote ${relative(root, result.testFile)}`);
  console.log("updated plugins/index.ts");
  console.log('next: fill in the TODOs, then npm test (the README\'s "Writing a plugin" has the checklist)');
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
}
