import { z } from "zod";
import { AppError } from "../errors/app_error.js";
import type { ErrorCode } from "../errors/error_codes.js";
import { errorCodeNames, errorResponse, jsonResponse, type ApiResponse, type ErrorFormat } from "../http/api_response.js";
import type { Logger } from "../logging/logger.js";

/**
 * An error of the OpenAI-compatible routes that names the request field it is about (`param`,
 * as OpenAI's API does: `messages[1].content`), or that OpenAI's clients know by another code
 * than the project's (`model_not_found`). Otherwise an ordinary AppError: logged, counted and
 * answered with the status of its project code.
 */
export class OpenAiRequestError extends AppError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly param: string | null,
    options: { readonly openAiCode?: OpenAiOwnCode } = {},
  ) {
    super(code, message, { details: { param } });
    this.openAiCode = options.openAiCode;
  }

  readonly openAiCode: OpenAiOwnCode | undefined;
}

/** The codes OpenAI's clients know by their own name. */
type OpenAiOwnCode = "model_not_found";

/** `{"error":{"message","type","param","code"}}`: every error answer of the `/api/v1` routes, as OpenAI answers and its SDKs read into their errors. */
export const openAiErrorBodySchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.enum(["invalid_request_error", "authentication_error", "permission_error", "rate_limit_error", "server_error"]),
      param: z.string().nullable().meta({ description: "The request field the error is about, such as `messages[0].content`." }),
      code: z
        .enum([...errorCodeNames, "model_not_found"])
        .meta({ description: "The project's stable code; `model_not_found` for a model that is not served." }),
    }),
  })
  .meta({ id: "OpenAiErrorBody" });

export type OpenAiErrorBody = z.infer<typeof openAiErrorBodySchema>;

/**
 * The error answer of the OpenAI-compatible routes, for every error: the wrapper's (401, 403, 429,
 * 413) and the handler's. The status, the headers (`WWW-Authenticate`, `Retry-After`), the logging
 * and the masking of anything that is not an AppError are errorResponse's, so nothing internal
 * reaches the body here either; only the body takes OpenAI's shape, with the project's stable code
 * as `code` (OpenAI's own where a client knows one, `model_not_found`).
 */
export function openAiErrorResponse(error: unknown, logger: Logger): ApiResponse<number, OpenAiErrorBody> {
  const standard = errorResponse(error, logger);
  const { code, message, details } = standard.jsonBody.error;
  const body: OpenAiErrorBody = {
    error: {
      message: withIssues(message, details),
      type: errorTypeOf(standard.status),
      param: error instanceof OpenAiRequestError ? error.param : null,
      code: (error instanceof OpenAiRequestError ? error.openAiCode : undefined) ?? code,
    },
  };
  return jsonResponse(standard.status, body, standard.headers);
}

/** OpenAI's `type` by status, as its API and its SDKs' error classes name them. */
export function errorTypeOf(status: number): OpenAiErrorBody["error"]["type"] {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * OpenAI's body has no room for the project's `details`; what a caller needs of them to correct its
 * input (the issues of a plugin's input validation) is added to the message.
 */
function withIssues(message: string, details: unknown): string {
  if (details === null || typeof details !== "object") return message;
  const { issues } = details as { issues?: unknown };
  const said: string[] = [];
  if (Array.isArray(issues)) {
    for (const issue of issues.slice(0, 5) as { path?: unknown; message?: unknown }[]) {
      if (typeof issue?.message !== "string") continue;
      said.push(typeof issue.path === "string" && issue.path !== "" ? `${issue.path}: ${issue.message}` : issue.message);
    }
  }
  return said.length === 0 ? message : `${message}: ${said.join("; ")}`;
}

/** The OpenAI-compatible routes' errors, in OpenAI's shape; a `not_found` there is a model that is not served (`model_not_found`). */
export const openAiErrors: ErrorFormat = {
  respond: openAiErrorResponse,
  body: openAiErrorBodySchema,
  codeName: (code) => (code === "not_found" ? "model_not_found" : code),
};
