/**
 * The rules a plugin's input schema must follow to be offered to a language model as a tool.
 * OpenAI's chat completions API (and Azure OpenAI's) refuses the whole request with 400 when one
 * tool breaks them, so a plugin that breaks them would take every free-text chat message down:
 * the registry refuses such a plugin when it is built, instead.
 *
 *   - the name matches ^[a-zA-Z0-9_-]{1,64}$ (the `function.name` rule of the API reference);
 *   - `parameters` is a JSON Schema object whose top level is {"type": "object"} with `properties`
 *     ("schema must be a JSON Schema of 'type: \"object\"'"; "object schema missing properties");
 *   - no top-level oneOf/anyOf/allOf/not/enum: a union of objects (a zod discriminatedUnion, say)
 *     has no top-level type at all, and is refused. Express it as one object with an enum field
 *     and optional fields, validated by the plugin's zod schema (see plugins/memory_plugin.ts).
 */
const toolNamePattern = /^[a-zA-Z0-9_-]{1,64}$/;

const forbiddenAtTopLevel = ["oneOf", "anyOf", "allOf", "not", "enum"] as const;

/** What is wrong with a tool's name and parameters, in words; empty when a model may be offered it. */
export function modelFacingSchemaProblems(name: string, schema: Record<string, unknown>): string[] {
  const problems: string[] = [];
  if (!toolNamePattern.test(name)) problems.push(`the name must match ${toolNamePattern}`);
  if (schema.type !== "object") problems.push(`the top level must be "type": "object", not ${JSON.stringify(schema.type ?? null)}`);
  const properties = schema.properties;
  if (typeof properties !== "object" || properties === null || Array.isArray(properties)) problems.push(`the top level must have "properties"`);
  for (const keyword of forbiddenAtTopLevel) {
    if (keyword in schema) problems.push(`the top level must not use "${keyword}" (make it one object with an enum field and optional fields)`);
  }
  return problems;
}
