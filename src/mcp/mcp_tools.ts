import type { Caller } from "../auth/caller.js";
import type { PluginPolicy } from "../auth/plugin_policy.js";
import type { PluginSettings } from "../plugins/plugin.js";
import { manifestDescription, type PluginManifestEntry } from "../plugins/plugin_manifest.js";
import type { PluginDescription, PluginRegistry } from "../plugins/plugin_registry.js";

/**
 * The plugins as MCP tools, for both hosts: the Functions entry registers them with
 * `app.mcpTool` (the extension's flat list of typed properties), the local host offers each
 * caller its own with the SDK (the plugin's whole JSON Schema). Nothing here loads the SDK or
 * @azure/functions.
 */
export interface McpToolDefinition {
  /** The plugin's own name, which is the tool's. */
  readonly name: string;
  readonly description: string;
  /** The plugin's input JSON Schema (a top-level object, see model_facing_schema.ts), without `$schema`. */
  readonly inputSchema: Record<string, unknown>;
}

/**
 * One property in the Functions MCP extension's flat list (`McpToolProperty` of @azure/functions,
 * plus `enumValues`, which the extension reads into the listed schema's `enum`).
 */
export interface McpToolPropertyDefinition {
  readonly propertyName: string;
  /** A JSON Schema type: string, number, integer, boolean or object (the items' type when `isArray`). */
  readonly propertyType: string;
  readonly description: string;
  readonly isRequired: boolean;
  readonly isArray: boolean;
  readonly enumValues?: string[];
}

/**
 * Every plugin that some caller may run on the mcp channel and that the configuration enables:
 * what the Functions host is told at start, before any caller is known (mcpToolsAtStart gives the
 * same from the plugins' manifest). Each call is still checked against the policy.
 */
export function mcpToolsForSomeCaller(registry: PluginRegistry, policy: PluginPolicy): McpToolDefinition[] {
  return toolsWhere(registry, (plugin) => policy.allowsSomeCaller(plugin, "mcp") && plugin.disabledReason?.() === undefined);
}

/** One MCP tool as the Functions host is told of it at start. */
export interface McpToolRegistration {
  readonly name: string;
  readonly description: string;
  readonly toolProperties: readonly McpToolPropertyDefinition[];
}

/**
 * mcpToolsForSomeCaller's tools with their flat properties, read from the plugins' manifest
 * (plugins/manifest.ts) instead of the plugins: the Functions entry registers them at start
 * without loading any plugin. The tests hold the two to the same answer for every setting that
 * changes it.
 */
export function mcpToolsAtStart(manifest: readonly PluginManifestEntry[], policy: PluginPolicy, settings: PluginSettings): McpToolRegistration[] {
  return manifest
    .filter((entry) => policy.allowsSomeCaller(entry, "mcp") && entry.disabledReason?.(settings) === undefined)
    .map((entry) => ({ name: entry.name, description: manifestDescription(entry, settings), toolProperties: entry.toolProperties }));
}

/** The tool of the plugin registered under this name, as the registry describes it: what a call of a tool registered at start runs with. */
export function mcpToolNamed(registry: PluginRegistry, name: string): McpToolDefinition | undefined {
  const described = registry.describe().find((description) => description.name === name);
  return described && toolOf(described);
}

/** The tools this caller may run on the mcp channel, enabled by the configuration: what the local host lists to it. */
export function mcpToolsFor(caller: Caller, registry: PluginRegistry, policy: PluginPolicy): McpToolDefinition[] {
  return toolsWhere(registry, (plugin) => policy.allows(caller, plugin, "mcp") && plugin.disabledReason?.() === undefined);
}

function toolsWhere(registry: PluginRegistry, keep: (plugin: NonNullable<ReturnType<PluginRegistry["resolve"]>>) => boolean): McpToolDefinition[] {
  return registry.describe().flatMap((described) => {
    const plugin = registry.resolve(described.name);
    return plugin && keep(plugin) ? [toolOf(described)] : [];
  });
}

function toolOf(described: PluginDescription): McpToolDefinition {
  const { $schema: _dialect, ...inputSchema } = described.inputSchema;
  return { name: described.name, description: described.description, inputSchema };
}

type JsonSchema = Record<string, unknown>;

const scalarTypes = new Set(["string", "number", "integer", "boolean", "object"]);

/**
 * The tool's input as the extension's flat list of typed properties. What a flat list cannot say
 * is put in words into the property's description, where a model reads it: the allowed values of
 * an enum, a default, and the fields of a nested object. The plugin's zod schema still validates
 * every call, so nothing here has to be exact.
 */
export function flatToolProperties(inputSchema: JsonSchema): McpToolPropertyDefinition[] {
  const properties = asSchema(inputSchema.properties) ?? {};
  const required = new Set(Array.isArray(inputSchema.required) ? inputSchema.required.filter((name) => typeof name === "string") : []);
  return Object.entries(properties).map(([propertyName, value]) => {
    const schema = asSchema(value) ?? {};
    const isArray = typeOf(schema) === "array";
    const element = isArray ? (asSchema(schema.items) ?? {}) : schema;
    const enumValues = enumOf(element);
    const words = [
      stringOr(schema.description, ""),
      enumValues ? `${isArray ? "Each one of" : "One of"}: ${enumValues.join(", ")}.` : "",
      schema.default !== undefined ? `Default: ${JSON.stringify(schema.default)}.` : "",
      typeOf(element) === "object" ? objectFieldsInWords(element) : "",
    ];
    return {
      propertyName,
      propertyType: propertyTypeOf(element),
      description: words.filter((word) => word !== "").join(" "),
      isRequired: required.has(propertyName),
      isArray,
      ...(enumValues ? { enumValues } : {}),
    };
  });
}

/**
 * Arguments as a client of the Functions host may send them: a value the extension handed over
 * as a string is read as JSON when the property is a number, integer, boolean, object or array and
 * the JSON is of that type. Anything else is left as it is, for the runner's validation to judge.
 */
export function coerceArguments(inputSchema: JsonSchema, args: Record<string, unknown>): Record<string, unknown> {
  const properties = asSchema(inputSchema.properties) ?? {};
  const coerced: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(args)) {
    const type = typeOf(asSchema(properties[name]) ?? {});
    coerced[name] = typeof value === "string" && type !== undefined && type !== "string" ? parsedAs(type, value) : value;
  }
  return coerced;
}

function parsedAs(type: string, text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  const matches =
    type === "number" ? typeof parsed === "number"
    : type === "integer" ? Number.isInteger(parsed)
    : type === "boolean" ? typeof parsed === "boolean"
    : type === "array" ? Array.isArray(parsed)
    : type === "object" ? typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)
    : false;
  return matches ? parsed : text;
}

/** The JSON Schema type of a property: its `type` (the first that is not null), else what its enum or union branches share. */
function typeOf(schema: JsonSchema): string | undefined {
  const type = schema.type;
  if (typeof type === "string") return type;
  if (Array.isArray(type)) return type.find((t): t is string => typeof t === "string" && t !== "null");
  const values = Array.isArray(schema.enum) ? schema.enum : "const" in schema ? [schema.const] : undefined;
  if (values && values.length > 0) {
    const kinds = new Set(values.map((v) => (typeof v === "number" ? "number" : typeof v === "boolean" ? "boolean" : "string")));
    return kinds.size === 1 ? [...kinds][0] : "string";
  }
  for (const keyword of ["anyOf", "oneOf"] as const) {
    const branches = Array.isArray(schema[keyword]) ? (schema[keyword] as unknown[]).map((b) => asSchema(b) ?? {}) : undefined;
    if (!branches) continue;
    const kinds = new Set(branches.map(typeOf).filter((t) => t !== undefined && t !== "null"));
    if (kinds.size === 1) return [...kinds][0];
  }
  return undefined;
}

/** The extension's property type: a scalar JSON Schema type; anything it cannot name (unions, `any`) is taken as a string. */
function propertyTypeOf(schema: JsonSchema): string {
  const type = typeOf(schema);
  if (type === "array") return "object";
  return type !== undefined && scalarTypes.has(type) ? type : "string";
}

function enumOf(schema: JsonSchema): string[] | undefined {
  const values = Array.isArray(schema.enum) ? schema.enum : "const" in schema ? [schema.const] : undefined;
  return values && values.length > 0 ? values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : undefined;
}

/** `An object with the fields: top_k (integer), truncation (one of: a, b), ...` */
function objectFieldsInWords(schema: JsonSchema): string {
  const fields = Object.entries(asSchema(schema.properties) ?? {});
  if (fields.length === 0) return "A JSON object.";
  const described = fields.map(([name, value]) => {
    const field = asSchema(value) ?? {};
    const values = enumOf(field);
    return `${name} (${values ? `one of: ${values.join(", ")}` : (typeOf(field) ?? "any")})`;
  });
  return `A JSON object with the fields: ${described.join(", ")}.`;
}

function asSchema(value: unknown): JsonSchema | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonSchema) : undefined;
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === "string" ? value : fallback;
}
