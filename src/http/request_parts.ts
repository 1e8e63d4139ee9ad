import type { HttpRequest } from "@azure/functions";
import type { z } from "zod";
import { AppError } from "../errors/app_error.js";
import { isErrorCode } from "../errors/error_codes.js";
import { readBodyText, readJson } from "./request_body.js";
import type { RequestContract } from "./route_contract.js";

type Part = "params" | "query" | "headers" | "body";

/**
 * The parts of a request its route declares, each parsed by its schema, before the handler runs. A
 * part that does not match is refused: 400 invalid_request with every issue, or the code of its
 * field (patternField). A body is read up to `maxBodyBytes` and parsed as JSON, or by `parseBody`.
 */
export async function parseRequest(
  request: HttpRequest,
  contract: RequestContract | undefined,
  options: { readonly maxBodyBytes: number; readonly parseBody?: ((text: string) => unknown) | undefined },
): Promise<Record<string, unknown>> {
  const parts: Record<string, unknown> = { request };
  if (contract?.params) parts.params = checkedPart("params", contract.params, request.params);
  if (contract?.query)
    parts.query = checkedPart(
      "query",
      contract.query,
      valuesOf(contract.query, (name) => request.query.get(name)),
    );
  if (contract?.headers)
    parts.headers = checkedPart(
      "headers",
      contract.headers,
      valuesOf(contract.headers, (name) => request.headers.get(name)),
    );
  if (contract?.body) {
    parts.body = options.parseBody
      ? options.parseBody(await readBodyText(request, options.maxBodyBytes))
      : checkedPart("body", contract.body, await readJson(request, options.maxBodyBytes));
  }
  return parts;
}

/** The named values (query parameters, headers) an object schema has a field for; absent ones undefined. */
function valuesOf(schema: z.ZodObject, read: (name: string) => string | null): Record<string, string | undefined> {
  return Object.fromEntries(Object.keys(schema.shape).map((name) => [name, read(name) ?? undefined]));
}

function checkedPart<S extends z.ZodType>(part: Part, schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw refusal(part, parsed.error.issues);
}

const partNames: Record<Exclude<Part, "body">, string> = { params: "path parameter", query: "query parameter", headers: "header" };

function refusal(part: Part, issues: readonly z.core.$ZodIssue[]): AppError {
  const first = issues[0]!;
  const name = first.path.map(String).join(".");
  const ownCode: unknown = first.code === "custom" ? first.params?.code : undefined;
  if (isErrorCode(ownCode)) return new AppError(ownCode, first.message, { details: part === "headers" ? { header: name } : { field: name } });
  return new AppError("invalid_request", part === "body" ? "request body does not match the expected shape" : `${partNames[part]} ${name}: ${first.message}`, {
    details: { issues: issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })) },
  });
}
