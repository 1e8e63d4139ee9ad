import type { ApiError } from "./api.js";
import { formatValue } from "./format.js";

/** An API error as the console shows it: its stable code, its message, and its details when it has some. */
export function ErrorMessage({ error, context }: { error: ApiError; context?: string }) {
  return (
    <div class="error-box">
      <p class="status status--error">
        <span class="badge badge--error">{error.code}</span> {context ? `${context}: ` : ""}
        {error.message}
        {error.status > 0 && <span class="muted small"> (HTTP {error.status})</span>}
      </p>
      {error.details !== undefined && (
        <details>
          <summary>Details</summary>
          <pre class="output" tabIndex={0}>
            {formatValue(error.details)}
          </pre>
        </details>
      )}
    </div>
  );
}
