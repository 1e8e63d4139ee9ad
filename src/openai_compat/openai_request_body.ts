/**
 * The body of a request to the OpenAI-compatible routes: JSON text that must be an object of the
 * route's schema. Whatever breaks it is refused with 400 `invalid_request` and the field it is
 * about as `param`, the way OpenAI's API names it (`input[1].content[0].type`).
 */
import type { z } from "zod";
import { OpenAiRequestError } from "./openai_error.js";

export function parseOpenAiRequestBody<S extends z.ZodType>(text: string, schema: S): z.infer<S> {
  return validated(jsonObjectOf(text), schema);
}

/** The body's JSON object; an empty body, one that is not JSON or not an object is refused. */
export function jsonObjectOf(text: string): Record<string, unknown> {
  if (text.trim() === "") throw new OpenAiRequestError("invalid_request", "The request body is empty; a JSON object is required.", null);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new OpenAiRequestError("invalid_request", "The request body is not valid JSON.", null);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new OpenAiRequestError("invalid_request", "The request body must be a JSON object.", null);
  }
  return value as Record<string, unknown>;
}

/** The value as the schema parses it; the first issue is refused, naming its field. */
export function validated<S extends z.ZodType>(value: unknown, schema: S): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const { path, message } = innermost(parsed.error.issues[0]!, []);
  const param = paramOf(path);
  if (param === undefined) throw new OpenAiRequestError("invalid_request", `Invalid request body: ${message}.`, null);
  throw new OpenAiRequestError("invalid_request", `Invalid '${param}': ${message}.`, param);
}

/** A zod issue's path as OpenAI names a field, `messages[0].content`; undefined for the body itself. */
export function paramOf(path: readonly PropertyKey[]): string | undefined {
  if (path.length === 0) return undefined;
  return path.reduce<string>((name, key) => (typeof key === "number" ? `${name}[${key}]` : name === "" ? String(key) : `${name}.${String(key)}`), "");
}

type Issue = z.core.$ZodIssue;

/**
 * The issue to report. A union (a string or a list of items) fails as a whole; when all of its
 * branches but one fail on the value's type alone, the value was meant for that one, and its own
 * issue names the field that is wrong (`input[2].role` rather than `input`).
 */
function innermost(issue: Issue, prefix: readonly PropertyKey[]): { path: PropertyKey[]; message: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code === "invalid_union") {
    const meant = issue.errors.filter((branch) => !branch.every((inner) => inner.code === "invalid_type" && inner.path.length === 0));
    if (meant.length === 1 && meant[0]!.length > 0) return innermost(meant[0]![0]!, path);
  }
  return { path, message: issue.message };
}
