import { AppError } from "../errors/app_error.js";

/**
 * 401 with the challenge RFC 6750 asks for. `invalid` adds error="invalid_token" (credentials were
 * sent but are not good); nothing of the token itself is ever echoed.
 */
export function unauthorized(message: string, invalid = true): AppError {
  return new AppError("unauthorized", message, {
    headers: { "www-authenticate": invalid ? 'Bearer error="invalid_token"' : "Bearer" },
  });
}
