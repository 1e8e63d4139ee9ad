/**
 * The building blocks of the configuration (src/config/config.ts) and of the plugins' own settings
 * (plugins/<name>/settings.ts): a setting is an environment variable, the zod schema that parses it
 * and its documentation (settingDocs, from which docs/configuration.md is generated), side by side.
 *
 * zod/mini rather than classic zod: the Functions entry parses the configuration at import, so every
 * new instance loads what this imports before it serves anything. On classic zod the import of the
 * Functions bundle took 1.54–1.59× the minimal app's CPU, over the 1.5× bound; on zod/mini it takes
 * 1.41–1.44× (bench/bundle_import.ts, bench/README.md "Zod at start").
 */
import * as z from "zod/mini";

/** The process environment, or what a test hands loadConfig. */
export type Environment = Readonly<Record<string, string | undefined>>;

export interface SettingDoc {
  /** What the setting does. */
  readonly description: string;
  /** The default, where the schema's default value alone would not say it (or it has none). */
  readonly default?: string;
  /** Its value when the app runs locally; when not given, "default" (or "unset" for a setting without a default value). */
  readonly local?: string;
  /** Its value in Azure, as infra/ deploys the app; when not given, as for `local`. */
  readonly azure?: string;
  /** Its value must never appear in an error message or a log line. */
  readonly secret?: boolean;
}

/** Each setting's documentation, registered on its schema. */
export const settingDocs = z.registry<SettingDoc>();

/** An environment variable's name, as the configuration's keys spell settings (parts are camelCase). */
export function isSettingName(key: PropertyKey): key is string {
  return typeof key === "string" && /^[A-Z][A-Z0-9_]*$/.test(key);
}

/**
 * A part of the configuration made of parts: its keys that are settings are read from the
 * environment, and each other key names a part that is read from the same environment.
 */
export function withParts<Shape extends z.core.$ZodLooseShape>(object: z.ZodMiniObject<Shape>) {
  const parts = Object.keys(object.shape).filter((key) => !isSettingName(key));
  return z.pipe(
    z.transform((environment: Environment): Record<string, unknown> => ({ ...environment, ...Object.fromEntries(parts.map((part) => [part, environment])) })),
    object,
  );
}

/** Trimmed text, not blank. */
export const text = () => z.string().check(z.trim(), z.minLength(1));

/**
 * Text that must pass `valid`; `rule` says what it must be ("must be an http(s) URL"). A refinement's
 * message is the setting's own even for a secret (see describeIssue in config.ts).
 */
export function textWhere(valid: (value: string) => boolean, rule: string) {
  return text().check(z.refine(valid, rule));
}

export const httpUrl = (rule = "must be an http(s) URL") => textWhere(isHttpUrl, rule);

/** A whole number from `min` to `max`. */
export function wholeNumber(min: number, max: number, minRule = `must be at least ${min}`) {
  return z.coerce.number({ error: "must be a whole number" }).check(z.int("must be a whole number"), z.gte(min, minRule), z.lte(max, `must be at most ${max}`));
}

/** One of `values`, named in the message. */
export function oneOf<const Values extends readonly [string, ...string[]]>(values: Values) {
  return z.enum(values, { error: `must be ${values.slice(0, -1).join(", ")} or ${values.at(-1)}` });
}

/**
 * A comma-separated list; every item must pass `valid` (`rule` says how). Unset is the empty list.
 * With `jsonArray`, a JSON array of strings is read as well.
 */
export function commaList(valid: (item: string) => boolean, rule: string, options: { jsonArray?: boolean } = {}) {
  const list = z.pipe(
    z.transform(
      (value: string) =>
        (options.jsonArray ? jsonArrayItems(value) : undefined) ??
        value
          .split(",")
          .map((item) => item.trim())
          .filter((item) => item !== ""),
    ),
    z.array(z.string()).check(
      z.superRefine((items, ctx) => {
        const bad = items.filter((item) => !valid(item));
        if (bad.length > 0) ctx.addIssue({ code: "custom", message: `${rule}; not valid: ${bad.join(", ")}`, input: items });
      }),
    ),
  );
  return z._default(list, []);
}

/** `["a","b"]` as its string items; undefined when the text is not a JSON array of strings. */
function jsonArrayItems(text: string): string[] | undefined {
  if (!text.trim().startsWith("[")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((item) => typeof item === "string") ? value.map((item) => item.trim()).filter((item) => item !== "") : undefined;
  } catch {
    return undefined;
  }
}

/** A prefix of the keys a store writes (session memory, result cache, rate limits): at most 64 characters. */
export const keyPrefix = (fallback: string) => z._default(z.string().check(z.maxLength(64)), fallback);

export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}

/** `scheme://host[:port]`, with no path. */
export function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value.replace(/\/$/, "");
  } catch {
    return false;
  }
}

export interface Setting {
  readonly name: string;
  readonly schema: z.core.$ZodType;
  readonly doc: SettingDoc | undefined;
}

/** Every setting `schema` reads, each once, in the order its parts declare them. */
export function settingsIn(schema: z.core.$ZodType, found = new Map<string, Setting>()): Setting[] {
  const def = schema._zod.def;
  if (def.type === "pipe") {
    const pipe = def as z.core.$ZodPipeDef;
    settingsIn(pipe.in, found);
    settingsIn(pipe.out, found);
  } else if (def.type === "object") {
    for (const [key, value] of Object.entries((def as z.core.$ZodObjectDef).shape)) {
      if (!isSettingName(key)) settingsIn(value, found);
      else if (!found.has(key)) found.set(key, { name: key, schema: value, doc: settingDocs.get(value) });
    }
  }
  return [...found.values()];
}
