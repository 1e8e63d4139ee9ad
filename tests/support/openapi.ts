import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";

/**
 * Checks an OpenAPI 3.1 document in two steps. The OpenAPI schema (through
 * @seriousme/openapi-schema-validator) checks its structure but, as the official schema does,
 * takes any object as a Schema Object; so every Schema Object in it is also checked against the
 * JSON Schema 2020-12 meta-schema (the dialect of OpenAPI 3.1) and compiled, which resolves its $refs.
 */
export async function openApiProblems(document: unknown): Promise<unknown[]> {
  const validator = new Validator();
  const structure = await validator.validate(structuredClone(document) as Record<string, unknown>);
  if (!structure.valid) return [structure.errors];
  const problems: unknown[] = [];
  const ajv = documentAjv(document);
  for (const { pointer, schema } of schemaObjects(document)) {
    if (!ajv.validateSchema(schema)) problems.push({ pointer, errors: ajv.errors });
    else {
      try {
        ajv.getSchema(`${documentId}#${pointer}`);
      } catch (error) {
        problems.push({ pointer, error: String(error) });
      }
    }
  }
  return problems;
}

/** Validates a value against the Schema Object at `pointer` (a JSON pointer into the document). */
export function schemaAt(document: unknown, pointer: string): (value: unknown) => ErrorObject[] {
  const validate = documentAjv(document).getSchema(`${documentId}#${pointer}`);
  if (!validate) throw new Error(`no schema at ${pointer}`);
  return (value) => (validate(value) ? [] : [...(validate.errors ?? [])]);
}

const documentId = "https://openapi.test/openapi.json";

/** The whole document as one schema resource, so "#/components/schemas/X" resolves as it does in the document. */
function documentAjv(document: unknown): Ajv2020 {
  // strict: false, since OpenAPI's own keywords (openapi, paths, example...) are not JSON Schema keywords.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ ...(document as object), $id: documentId });
  return ajv;
}

/** Every Schema Object of the document, with its JSON pointer. */
function* schemaObjects(document: any): Generator<{ pointer: string; schema: object }> {
  const escaped = (segment: string) => segment.replaceAll("~", "~0").replaceAll("/", "~1");
  for (const [name, schema] of Object.entries(document.components?.schemas ?? {})) {
    yield { pointer: `/components/schemas/${escaped(name)}`, schema: schema as object };
  }
  const contentSchemas = function* (at: string, content: Record<string, any> | undefined) {
    for (const [type, media] of Object.entries(content ?? {})) {
      if (media.schema) yield { pointer: `${at}/content/${escaped(type)}/schema`, schema: media.schema };
    }
  };
  for (const [path, item] of Object.entries(document.paths ?? {}) as [string, Record<string, any>][]) {
    for (const [method, operation] of Object.entries(item)) {
      const at = `/paths/${escaped(path)}/${method}`;
      for (const [index, parameter] of (operation.parameters ?? []).entries()) yield { pointer: `${at}/parameters/${index}/schema`, schema: parameter.schema };
      yield* contentSchemas(`${at}/requestBody`, operation.requestBody?.content);
      for (const [status, response] of Object.entries(operation.responses ?? {}) as [string, any][]) {
        yield* contentSchemas(`${at}/responses/${status}`, response.content);
        for (const [name, header] of Object.entries(response.headers ?? {}) as [string, any][]) {
          yield { pointer: `${at}/responses/${status}/headers/${escaped(name)}/schema`, schema: header.schema };
        }
      }
    }
  }
}
