import { AppError } from "../errors/app_error.js";
import { storageSpan, type StorageDependency } from "../telemetry/tracing.js";

/**
 * One call to Table, Blob or Queue storage: traced as a dependency (`Table createEntity`, a
 * CLIENT span, names only), and any failure to reach storage becomes storage_unavailable;
 * AppErrors pass through.
 */
export function storageCall<T>(message: string, dependency: StorageDependency, operation: () => Promise<T>): Promise<T> {
  return storageSpan(dependency, async () => {
    try {
      return await operation();
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError("storage_unavailable", message, { cause: error });
    }
  });
}

/** The HTTP status of a failed storage SDK call (a RestError), if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Cuts text to a length a table property or a log line can hold, marking the cut. */
export function shorten(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const code = text.charCodeAt(maxChars - 1);
  // Never keep half of a surrogate pair.
  const end = code >= 0xd800 && code <= 0xdbff ? maxChars - 1 : maxChars;
  return `${text.slice(0, end)}…[truncated]`;
}
