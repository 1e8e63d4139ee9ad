import { AppError } from "../errors/app_error.js";

/** What every use of storage answers when none is configured (the CLI, tests without it). */
export function storageNotConfigured(): AppError {
  return new AppError("storage_unavailable", "no storage is configured: set STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_NAME");
}
