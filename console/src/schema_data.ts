/**
 * What a form generated from a plugin's input schema stands for: the kind of field each property
 * gets, and the conversions between what was typed in the fields and the JSON value sent.
 */
/** A JSON Schema (draft 2020-12) as the form reads it: the keywords it turns into fields and hints. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly description?: string;
  readonly default?: unknown;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly [keyword: string]: unknown;
}

/** What the user typed in each field, by path (`parameters.top_k`): strings, or booleans for checkboxes. */
export type Drafts = Readonly<Record<string, string | boolean>>;

export type FieldKind = "enum" | "text" | "long-text" | "integer" | "number" | "boolean" | "object" | "json";

function typeOf(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : (schema.type as string | undefined);
}

export function fieldKind(schema: JsonSchema): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.every((v) => typeof v === "string")) return "enum";
  switch (typeOf(schema)) {
    case "string":
      return schema.maxLength !== undefined && schema.maxLength <= 1000 ? "text" : "long-text";
    case "integer":
      return "integer";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    case "object":
      return schema.properties ? "object" : "json";
    default:
      return "json";
  }
}

/** The value a form's drafts stand for: fields left empty are omitted; a number that does not parse stays text (the plugin says why). */
export function dataFromDrafts(schema: JsonSchema, drafts: Drafts, prefix = ""): Record<string, unknown> {
  const data: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    const kind = fieldKind(property);
    if (kind === "object") {
      const nested = dataFromDrafts(property, drafts, `${path}.`);
      if (Object.keys(nested).length > 0) data[name] = nested;
      continue;
    }
    const draft = drafts[path];
    if (draft === undefined || draft === "") continue;
    if (kind === "boolean") {
      if (typeof draft === "boolean") data[name] = draft;
      continue;
    }
    const text = String(draft);
    if (kind === "integer" || kind === "number") {
      const number = Number(text.trim());
      data[name] = text.trim() !== "" && Number.isFinite(number) ? number : text;
    } else if (kind === "json") {
      try {
        data[name] = JSON.parse(text);
      } catch {
        data[name] = text;
      }
    } else {
      data[name] = text;
    }
  }
  return data;
}

/** The drafts that show `value` (an object typed into Input) in the form. */
export function draftsFromData(schema: JsonSchema, value: Record<string, unknown>, prefix = ""): Record<string, string | boolean> {
  const drafts: Record<string, string | boolean> = {};
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    const path = prefix + name;
    const field = value[name];
    if (field === undefined) continue;
    const kind = fieldKind(property);
    if (kind === "object" && field !== null && typeof field === "object" && !Array.isArray(field)) {
      Object.assign(drafts, draftsFromData(property, field as Record<string, unknown>, `${path}.`));
    } else if (kind === "boolean" && typeof field === "boolean") {
      drafts[path] = field;
    } else if (typeof field === "string" && kind !== "json") {
      drafts[path] = field;
    } else {
      drafts[path] = typeof field === "number" && kind !== "json" ? String(field) : JSON.stringify(field);
    }
  }
  return drafts;
}

/** A plugin's schema has fields to show (an object with properties). */
export function hasFields(schema: JsonSchema): boolean {
  return Object.keys(schema.properties ?? {}).length > 0;
}
