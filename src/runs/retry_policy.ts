import { AppError } from "../errors/app_error.js";
import { errorCodes, type ErrorCode } from "../errors/error_codes.js";

/**
 * What a queue-triggered run does with each way a run can fail. The queue handler THROWS for a
 * retryable failure, so that the Functions host (or the local host's poller) delivers the message
 * again after host.json's `visibilityTimeout`, and moves it to `<queue>-poison` after
 * `maxDequeueCount` deliveries; on the last delivery the run is recorded `failed` first. A
 * permanent failure is recorded `failed` and the handler returns: delivering the same message
 * again could only fail the same way (and would repeat whatever the run did before failing).
 *
 * Retryable: a dependency that is down or overloaded now and may not be in a moment —
 *   storage_unavailable (tables, blobs, the queue, the audit log), memory_unavailable (Redis),
 *   plugin_busy (the plugin's bulkhead is full), plugin_timeout (a slow upstream or a busy machine;
 *   a plugin that always hangs costs maxDequeueCount × its timeout before it lands in the poison
 *   queue), upstream_unavailable (Hugging Face keeps failing), llm_unavailable (the model cannot be
 *   reached; also "no model configured", which then ends in the poison queue after maxDequeueCount
 *   short attempts), internal_error, and anything thrown that is not an AppError at all (unknown,
 *   so given the benefit of the doubt; maxDequeueCount bounds it).
 *
 * Permanent: the request itself is wrong or refused — invalid_request (a malformed message),
 *   invalid_input, invalid_session_id, plugin_not_found, plugin_disabled, command_not_allowed,
 *   payload_too_large, unauthorized, plugin_forbidden, path_not_allowed — or the plugin failed on its own terms: plugin_failed (it threw, returned
 *   nothing or something that is not JSON) and llm_step_limit (the model kept calling tools).
 *   The HTTP-only codes are decided too; a run never ends with them. The decision itself is the
 *   `retryable` column of src/errors/error_codes.ts; rate_limited is retryable like plugin_busy.
 */
export const failureKinds: Readonly<Record<ErrorCode, "retryable" | "permanent">> = Object.fromEntries(
  Object.entries(errorCodes).map(([code, row]) => [code, row.retryable ? "retryable" : "permanent"]),
) as Record<ErrorCode, "retryable" | "permanent">;

export function isRetryable(error: unknown): boolean {
  if (error instanceof AppError) return failureKinds[error.code] === "retryable";
  return true;
}
