import { useState } from "preact/hooks";
import { api, type ApiError, type AwaitingApproval, type RunView } from "./api.js";
import { ErrorMessage } from "./error_message.js";
import { formatDateTime, formatValue } from "./format.js";

/**
 * A run that waits for an approver, where it was started (the Plugins view, a chat turn): what it
 * is, until when it may be decided, and a button that reads its state again (GET /api/runs/{runId}).
 */
export function AwaitingRun({ awaiting }: { awaiting: AwaitingApproval }) {
  const [run, setRun] = useState<RunView | undefined>();
  const [error, setError] = useState<ApiError | undefined>();
  const [checking, setChecking] = useState(false);

  const check = async () => {
    if (checking) return;
    setChecking(true);
    try {
      setRun(await api.run(awaiting.runId));
      setError(undefined);
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setChecking(false);
    }
  };

  const state = run?.state ?? awaiting.state;
  return (
    <div class="awaiting">
      <p>
        <span class={`badge badge--${badgeOf(state)}`}>{state}</span> {awaiting.plugin} has not run: it waits for an approver's decision until{" "}
        <time dateTime={awaiting.expiresAt}>{formatDateTime(awaiting.expiresAt)}</time>.
      </p>
      <p class="muted small">
        Run <code>{awaiting.runId}</code>
      </p>
      <div class="actions">
        <button type="button" onClick={check} aria-disabled={checking ? "true" : undefined}>
          Check status
        </button>
        <p class="small" role="status">
          {run && stateText(run)}
        </p>
      </div>
      {run?.state === "succeeded" && (
        <pre class="output" tabIndex={0}>
          {formatValue(run.result)}
        </pre>
      )}
      {error && <ErrorMessage error={error} context="The run could not be read" />}
    </div>
  );
}

/** A run's or an entry's state as a badge colour. */
export function badgeOf(state: string): "success" | "error" | "neutral" {
  if (state === "succeeded" || state === "success" || state === "approved") return "success";
  if (state === "awaiting_approval" || state === "queued" || state === "running") return "neutral";
  return "error";
}

function stateText(run: RunView): string {
  const by = run.approval?.decidedBy ? ` by ${run.approval.decidedBy}` : "";
  const why = run.approval?.reason ? `: ${run.approval.reason}` : "";
  switch (run.state) {
    case "awaiting_approval":
      return "Still waiting for an approver.";
    case "approved":
    case "queued":
    case "running":
      return `Approved${by}; it runs now.`;
    case "succeeded":
      return `Approved${by}, and it ran:`;
    case "failed":
      return `Approved${by}, and it failed: ${run.error?.code ?? ""} ${run.error?.message ?? ""}`.trim();
    case "denied":
      return `Denied${by}${why}.`;
    case "expired":
      return "Nobody decided in time: it has expired and will not run.";
  }
}
