/**
 * A form generated from a plugin's input schema (JSON Schema 2020-12, as GET /api/plugins gives
 * it): a labelled field per property, typed (text, number, checkbox, a select for an enum, a
 * fieldset for a nested object, a JSON field for anything else), with required marks and the
 * schema's descriptions as hints. The form fills the raw "Input" field, which is what is sent.
 */
import type { JSX } from "preact";
import type { JsonSchema } from "./schema_data.js";
import { fieldKind, type Drafts, type FieldKind } from "./schema_data.js";

export { dataFromDrafts, draftsFromData, hasFields, type Drafts } from "./schema_data.js";

interface FieldsProps {
  readonly schema: JsonSchema;
  readonly drafts: Drafts;
  readonly onChange: (path: string, value: string | boolean) => void;
  /** Unique per form, for element ids. */
  readonly idPrefix: string;
  readonly prefix?: string;
}

export function SchemaFields({ schema, drafts, onChange, idPrefix, prefix = "" }: FieldsProps) {
  const required = new Set(schema.required ?? []);
  return (
    <>
      {Object.entries(schema.properties ?? {}).map(([name, property]) => (
        <SchemaField
          key={prefix + name}
          name={name}
          path={prefix + name}
          schema={property}
          required={required.has(name)}
          drafts={drafts}
          onChange={onChange}
          idPrefix={idPrefix}
        />
      ))}
    </>
  );
}

interface FieldProps {
  readonly name: string;
  readonly path: string;
  readonly schema: JsonSchema;
  readonly required: boolean;
  readonly drafts: Drafts;
  readonly onChange: (path: string, value: string | boolean) => void;
  readonly idPrefix: string;
}

function SchemaField({ name, path, schema, required, drafts, onChange, idPrefix }: FieldProps) {
  const kind = fieldKind(schema);
  const id = `${idPrefix}-${path.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const hintId = `${id}-hint`;
  const hint = hintText(schema, kind);
  const label = (
    <>
      {name}
      {required && (
        <>
          <span class="required-mark" aria-hidden="true">
            {" "}
            *
          </span>
          <span class="visually-hidden"> (required)</span>
        </>
      )}
    </>
  );

  if (kind === "object") {
    return (
      <fieldset class="field field--group" aria-describedby={hint ? hintId : undefined}>
        <legend>{label}</legend>
        {hint && (
          <p class="hint" id={hintId}>
            {hint}
          </p>
        )}
        <SchemaFields schema={schema} drafts={drafts} onChange={onChange} idPrefix={idPrefix} prefix={`${path}.`} />
      </fieldset>
    );
  }

  const draft = drafts[path];
  const text = typeof draft === "string" ? draft : "";
  const common = {
    id,
    name: path,
    "aria-describedby": hint ? hintId : undefined,
    "aria-required": required ? ("true" as const) : undefined,
  };
  let control: JSX.Element;
  switch (kind) {
    case "boolean":
      return (
        <div class="field field--check">
          <input {...common} type="checkbox" checked={draft === true} onChange={(e) => onChange(path, e.currentTarget.checked)} />
          <label for={id}>{label}</label>
          {hint && (
            <p class="hint" id={hintId}>
              {hint}
            </p>
          )}
        </div>
      );
    case "enum":
      control = (
        <select {...common} value={text} onChange={(e) => onChange(path, e.currentTarget.value)}>
          <option value="">{schema.default !== undefined ? `(default: ${String(schema.default)})` : "(none)"}</option>
          {(schema.enum as string[]).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case "integer":
    case "number":
      control = (
        <input
          {...common}
          type="number"
          inputMode={kind === "integer" ? "numeric" : "decimal"}
          step={kind === "integer" ? 1 : "any"}
          min={schema.minimum}
          max={schema.maximum}
          value={text}
          onInput={(e) => onChange(path, e.currentTarget.value)}
        />
      );
      break;
    case "text":
      control = <input {...common} type="text" autoComplete="off" spellcheck={false} value={text} onInput={(e) => onChange(path, e.currentTarget.value)} />;
      break;
    default:
      control = <textarea {...common} rows={kind === "json" ? 3 : 4} spellcheck={false} value={text} onInput={(e) => onChange(path, e.currentTarget.value)} />;
  }
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {control}
      {hint && (
        <p class="hint" id={hintId}>
          {hint}
        </p>
      )}
    </div>
  );
}

function hintText(schema: JsonSchema, kind: FieldKind): string {
  const parts: string[] = [];
  if (schema.description) parts.push(schema.description);
  if (kind === "json") parts.push("JSON.");
  if (kind === "integer" || kind === "number") {
    if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`${schema.minimum} to ${schema.maximum}.`);
    else if (schema.minimum !== undefined) parts.push(`At least ${schema.minimum}.`);
    else if (schema.maximum !== undefined) parts.push(`At most ${schema.maximum}.`);
  }
  if (schema.default !== undefined && kind !== "enum") parts.push(`Default: ${JSON.stringify(schema.default)}.`);
  return parts.join(" ");
}
