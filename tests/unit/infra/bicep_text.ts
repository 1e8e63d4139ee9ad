/**
 * Reading the Bicep templates under infra/ as text (the Bicep compiler is not available where the
 * tests run): comments stripped, resources, module parameters, var objects and arrays. Shared by the
 * tests of tests/unit/infra/.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { configSchema } from "../../../src/config/config.js";
import { settingsIn } from "../../../src/config/setting.js";

export const root = fileURLToPath(new URL("../../../", import.meta.url));
export const infraDir = join(root, "infra");

// ---------------------------------------------------------------------------------------------
// Reading the templates
// ---------------------------------------------------------------------------------------------

/**
 * Bicep without its comments: `// ...` to the end of the line and `/* ... *\/` blocks, outside
 * strings ('...' with \' escapes, and '''...''' multi-line strings), so that `https://` in a string
 * stays and a commented-out line cannot satisfy (or break) a check.
 */
function stripBicepComments(source: string): string {
  let out = "";
  let i = 0;
  while (i < source.length) {
    const rest = source.slice(i);
    if (rest.startsWith("'''")) {
      const end = source.indexOf("'''", i + 3);
      const stop = end === -1 ? source.length : end + 3;
      out += source.slice(i, stop);
      i = stop;
    } else if (source[i] === "'") {
      let j = i + 1;
      while (j < source.length && source[j] !== "'" && source[j] !== "\n") j += source[j] === "\\" ? 2 : 1;
      out += source.slice(i, j + 1);
      i = j + 1;
    } else if (rest.startsWith("//")) {
      const end = source.indexOf("\n", i);
      i = end === -1 ? source.length : end;
    } else if (rest.startsWith("/*")) {
      const end = source.indexOf("*/", i + 2);
      const comment = source.slice(i, end === -1 ? source.length : end + 2);
      out += comment.replace(/[^\n]/g, ""); // keep the line count
      i = end === -1 ? source.length : end + 2;
    } else {
      out += source[i];
      i += 1;
    }
  }
  return out;
}

function filesUnder(dir: string, extension: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesUnder(path, extension));
    else if (entry.name.endsWith(extension)) found.push(path);
  }
  return found.sort();
}

export const bicepFiles = new Map(
  filesUnder(infraDir, ".bicep").map((path) => [relative(infraDir, path).replace(/\\/g, "/"), stripBicepComments(readFileSync(path, "utf8"))]),
);
export const jsonFiles = new Map(filesUnder(infraDir, ".json").map((path) => [relative(infraDir, path).replace(/\\/g, "/"), readFileSync(path, "utf8")]));

export function bicep(name: string): string {
  const text = bicepFiles.get(name);
  if (text === undefined) throw new Error(`infra/${name} is missing (found: ${[...bicepFiles.keys()].join(", ")})`);
  return text;
}

/** The text from the `{` at or after `from` to its matching `}`, both included. */
export function braceBlock(text: string, from: number): string {
  const open = text.indexOf("{", from);
  if (open === -1) throw new Error(`no { after offset ${from}`);
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === "{") depth += 1;
    else if (text[i] === "}") {
      depth -= 1;
      if (depth === 0) return text.slice(open, i + 1);
    }
  }
  throw new Error(`unbalanced braces after offset ${from}`);
}

export interface ResourceDeclaration {
  readonly file: string;
  readonly symbol: string;
  readonly type: string;
  readonly apiVersion: string;
  readonly existing: boolean;
  readonly condition: string | undefined;
  readonly body: string;
}

const resourcePattern = /^\s*resource\s+(\w+)\s+'([^'@]+)@([^']+)'(\s+existing)?\s*=\s*(?:\[\s*for\s[^:]+:\s*)?(?:if\s*\(([^)]*)\)\s*)?\{/gm;

export function resources(file: string): ResourceDeclaration[] {
  const text = bicep(file);
  return [...text.matchAll(resourcePattern)].map((m) => ({
    file,
    symbol: m[1]!,
    type: m[2]!,
    apiVersion: m[3]!,
    existing: m[4] !== undefined,
    condition: m[5]?.trim(),
    body: braceBlock(text, m.index! + m[0].length - 1),
  }));
}

export function allResources(): ResourceDeclaration[] {
  return [...bicepFiles.keys()].flatMap(resources);
}

/** The single declared (not `existing`) resource of a type in a file. */
export function declared(file: string, type: string): ResourceDeclaration {
  const found = resources(file).filter((r) => r.type === type && !r.existing);
  expect(
    found.map((r) => r.symbol),
    `${type} resources declared in infra/${file}`,
  ).toHaveLength(1);
  return found[0]!;
}

/** The `params: { ... }` of `module <symbol> '<path>'` in main.bicep, as name → expression. */
export function moduleParams(symbol: string): { path: string; condition: string | undefined; params: Map<string, string> } {
  const text = bicep("main.bicep");
  const m = new RegExp(`^module\\s+${symbol}\\s+'([^']+)'\\s*=\\s*(?:if\\s*\\(([^)]*)\\)\\s*)?\\{`, "m").exec(text);
  if (!m) throw new Error(`main.bicep declares no module ${symbol}`);
  const body = braceBlock(text, m.index + m[0].length - 1);
  const paramsAt = body.search(/\bparams\s*:\s*\{/);
  if (paramsAt === -1) throw new Error(`module ${symbol} passes no params`);
  return { path: m[1]!, condition: m[2]?.trim(), params: objectEntries(braceBlock(body, paramsAt)) };
}

/** The top-level `name: value` lines of a Bicep object literal (values on one line). */
export function objectEntries(objectLiteral: string): Map<string, string> {
  const entries = new Map<string, string>();
  let depth = 0;
  for (const line of objectLiteral.split("\n")) {
    if (depth === 1) {
      const m = /^\s*('?)([A-Za-z_][\w-]*)\1\s*:\s*(.*?)\s*$/.exec(line);
      if (m) entries.set(m[2]!, m[3]!);
    }
    for (const ch of line) {
      if (ch === "{" || ch === "[") depth += 1;
      else if (ch === "}" || ch === "]") depth -= 1;
    }
  }
  return entries;
}

/** The object literal assigned to `var <name>` (also behind a `cond ? {...} : {}`). */
export function varObject(file: string, name: string): Map<string, string> {
  const text = bicep(file);
  const m = new RegExp(`^var\\s+${name}\\s*=`, "m").exec(text);
  if (!m) throw new Error(`infra/${file} declares no var ${name}`);
  return objectEntries(braceBlock(text, m.index + m[0].length));
}

/** `var name = '<literal>'` declarations of a file. */
export function stringVars(file: string): Map<string, string> {
  return new Map([...bicep(file).matchAll(/^var\s+(\w+)\s*=\s*'([^'$]*)'\s*$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** A single-quoted literal without interpolation, or undefined for an expression. */
export function literal(expression: string): string | undefined {
  return /^'([^'$]*)'$/.exec(expression)?.[1];
}

// ---------------------------------------------------------------------------------------------
// What the app reads: the settings of the configuration's schema (src/config/config.ts)
// ---------------------------------------------------------------------------------------------

export function configSettingNames(): Set<string> {
  return new Set(settingsIn(configSchema).map((setting) => setting.name));
}

/** Settings that belong to the Functions platform, not to src/config/config.ts. */
export const platformSetting = /^(AzureWebJobsStorage__|APPLICATIONINSIGHTS_|FUNCTIONS_|WEBSITE_)/;

/** The items of `var <name> = [ ... ]` (one per line). */
export function varObjectList(text: string, name: string): string[] {
  const m = new RegExp(`^var\\s+${name}\\s*=\\s*\\[([^\\]]*)\\]`, "m").exec(text);
  if (!m) throw new Error(`no var ${name} = [...]`);
  return m[1]!
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

// ---------------------------------------------------------------------------------------------
// The Function App's settings
// ---------------------------------------------------------------------------------------------

export const functionAppFile = "modules/functionapp.bicep";

/** Every app setting the Function App can get: the appSettings object and the conditional ones. */
export function appSettings(): Map<string, string> {
  return new Map([
    ...varObject(functionAppFile, "appSettings"),
    ...varObject(functionAppFile, "openAiAppSettings"),
    ...varObject(functionAppFile, "pluginPolicyAppSettings"),
    ...varObject(functionAppFile, "appServiceAuthAppSettings"),
  ]);
}

/** Plausible deployed values of the app settings' resource expressions (names, ids, host names) that every infra test evaluates alike. */
export const deployedResourceValues: Readonly<Record<string, string>> = {
  "storage.name": "stabcdefgh12345",
  identityClientId: "11111111-2222-3333-4444-555555555555",
  identityPrincipalId: "66666666-7777-8888-9999-000000000000",
  redisHostName: "redis-abc.swedencentral.redis.azure.net",
  "string(redisPort)": "10000",
  auditTableName: "auditlog",
  runsTableName: "pluginruns",
  pluginRunsQueueName: "plugin-runs",
  pluginResultsContainerName: "plugin-results",
  logLevel: "info",
};
