import { useEffect, useRef, useState } from "preact/hooks";
import { api, type ApiError, type ApprovalView } from "./api.js";
import { ErrorMessage } from "./error_message.js";
import { formatDateTime, formatValue } from "./format.js";

interface Props {
  /** Changes when the user signs in or out: whether the caller approves anything is the caller's. */
  readonly authVersion: number;
  /** The view is shown: the list is read again, since requests come and go while it is hidden. */
  readonly active: boolean;
  /** Whether the caller may decide requests at all (the API answers 403 to anyone else): the navigation shows the view only then. */
  readonly onAccess: (approver: boolean) => void;
}

type Load =
  | { readonly kind: "loading" }
  | { readonly kind: "loaded"; readonly requests: readonly ApprovalView[] }
  | { readonly kind: "error"; readonly error: ApiError };

/** For approvers: the pending requests they may decide (GET /api/approvals), each with Approve and Deny (POST /api/approvals/{runId}). */
export function ApprovalsView({ authVersion, active, onAccess }: Props) {
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  const [reloads, setReloads] = useState(0);
  const [announcement, setAnnouncement] = useState("");
  // Counts the times the view was shown: each shows the list as it is then.
  const [shown, setShown] = useState(0);
  const heading = useRef<HTMLHeadingElement>(null);
  const list = useRef<HTMLUListElement>(null);

  useEffect(() => {
    if (active) setShown((n) => n + 1);
  }, [active]);

  useEffect(() => {
    let current = true;
    api.approvals().then(
      (requests) => {
        if (!current) return;
        setLoad({ kind: "loaded", requests });
        onAccess(true);
      },
      (error: ApiError) => {
        if (!current) return;
        setLoad({ kind: "error", error });
        onAccess(error.status !== 403 && error.status !== 401);
      },
    );
    return () => {
      current = false;
    };
  }, [authVersion, reloads, shown]);

  /** A decided request leaves the list; the keyboard goes on at the next one (or the heading when none is left). */
  const decided = (request: ApprovalView, message: string) => {
    if (load.kind !== "loaded") return;
    const index = load.requests.findIndex((r) => r.runId === request.runId);
    const rest = load.requests.filter((r) => r.runId !== request.runId);
    setLoad({ kind: "loaded", requests: rest });
    setAnnouncement(message);
    const next = rest[Math.min(index, rest.length - 1)];
    requestAnimationFrame(() => {
      const target = next ? list.current?.querySelector<HTMLElement>(`[data-request="${CSS.escape(next.runId)}"] h3`) : heading.current;
      target?.focus();
    });
  };

  return (
    <section class="view" aria-labelledby="approvals-heading">
      <div class="view-head">
        <h2 id="approvals-heading" tabIndex={-1} ref={heading}>
          Approvals
        </h2>
        <button type="button" onClick={() => setReloads((n) => n + 1)}>
          Refresh
        </button>
      </div>
      <p class="muted small">
        Runs that wait for your decision, oldest first. An approved run runs once, as the person who asked for it; your own requests are for another approver.
      </p>
      <p class="visually-hidden" role="status">
        {announcement}
      </p>
      {load.kind === "loading" && <p class="muted">Loading…</p>}
      {load.kind === "error" && load.error.status === 403 && <p>Only approvers decide runs: no approval rule names a role of yours.</p>}
      {load.kind === "error" && load.error.status === 401 && <p class="muted">Sign in to see the runs you may decide.</p>}
      {load.kind === "error" && load.error.status !== 403 && load.error.status !== 401 && (
        <ErrorMessage error={load.error} context="The requests could not be listed" />
      )}
      {load.kind === "loaded" && load.requests.length === 0 && <p>No run waits for your decision.</p>}
      {load.kind === "loaded" && load.requests.length > 0 && (
        <ul class="requests" ref={list} aria-label="Runs waiting for a decision">
          {load.requests.map((request) => (
            <li key={request.runId} data-request={request.runId}>
              <RequestCard request={request} onDecided={decided} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function RequestCard({ request, onDecided }: { request: ApprovalView; onDecided: (request: ApprovalView, message: string) => void }) {
  const [reason, setReason] = useState("");
  const [missingReason, setMissingReason] = useState(false);
  const [error, setError] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  const reasonField = useRef<HTMLInputElement>(null);
  const id = `request-${request.runId}`;

  const decide = async (decision: "approve" | "deny") => {
    if (busy) return;
    if (decision === "deny" && reason.trim() === "") {
      setMissingReason(true);
      reasonField.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const done = await api.decide(request.runId, decision, reason.trim());
      onDecided(request, `${done.state === "approved" ? "Approved" : "Denied"}: ${request.plugin}, run ${request.runId}.`);
    } catch (failure) {
      const apiError = failure as ApiError;
      // Decided by someone else meanwhile, or expired: it is no longer this approver's to decide.
      if (apiError.code === "approval_closed" || apiError.code === "run_not_found") onDecided(request, `Not decided: ${apiError.message}`);
      else setError(apiError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <article class="request" aria-labelledby={`${id}-heading`}>
      <h3 id={`${id}-heading`} tabIndex={-1}>
        <code>{request.plugin}</code> <span class="muted small">run {request.runId}</span>
      </h3>
      <dl class="request-facts">
        <dt>Asked by</dt>
        <dd>{request.requester}</dd>
        <dt>Channel</dt>
        <dd>{request.channel ?? "unknown"}</dd>
        <dt>Asked at</dt>
        <dd>
          <time dateTime={request.requestedAt}>{formatDateTime(request.requestedAt)}</time>
        </dd>
        <dt>Decide before</dt>
        <dd>
          <time dateTime={request.expiresAt}>{formatDateTime(request.expiresAt)}</time>
        </dd>
      </dl>
      <p class="request-input-label" id={`${id}-input`}>
        Input (what runs if approved)
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: a <fieldset> is for form controls; the role lets the label name this focusable <pre> */}
      <pre class="output" role="group" tabIndex={0} aria-labelledby={`${id}-input`}>
        {formatValue(request.input)}
      </pre>
      <div class="field">
        <label for={`${id}-reason`}>Reason</label>
        <input
          id={`${id}-reason`}
          ref={reasonField}
          type="text"
          value={reason}
          maxLength={1000}
          autoComplete="off"
          aria-invalid={missingReason ? "true" : undefined}
          aria-describedby={`${id}-reason-hint`}
          onInput={(e) => {
            setReason(e.currentTarget.value);
            if (e.currentTarget.value.trim() !== "") setMissingReason(false);
          }}
        />
        <p class={missingReason ? "field-error" : "hint"} id={`${id}-reason-hint`}>
          {missingReason ? "Give a reason to deny the run." : "Recorded with your decision in the requester's timeline; needed to deny."}
        </p>
      </div>
      <div class="actions">
        <button type="button" class="primary" onClick={() => decide("approve")} aria-disabled={busy ? "true" : undefined} aria-describedby={`${id}-heading`}>
          Approve
        </button>
        <button type="button" onClick={() => decide("deny")} aria-disabled={busy ? "true" : undefined} aria-describedby={`${id}-heading`}>
          Deny
        </button>
      </div>
      {error && <ErrorMessage error={error} context="The decision was not recorded" />}
    </article>
  );
}
