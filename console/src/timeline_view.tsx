import { useEffect, useRef, useState } from "preact/hooks";
import { api, type ApiError, type AuditEntry } from "./api.js";
import { badgeOf } from "./awaiting_run.js";
import { ErrorMessage } from "./error_message.js";
import { formatDate, formatDateTime, formatDuration, formatTime, formatValue } from "./format.js";

const pageSize = 20;

const typeNames: Readonly<Record<AuditEntry["type"], string>> = {
  user_message: "Message",
  reply: "Reply",
  tool_call: "Tool call",
  plugin_run: "Plugin run",
  memory_cleared: "Memory cleared",
  approval_requested: "Approval requested",
  approval_decided: "Approval decision",
};

interface Props {
  readonly sessionId: string;
  /** Changes when something was recorded from this page (a run, a turn) or the caller changed. */
  readonly version: string;
}

/** The session's audit log (GET /api/memory/audit/{sessionId}), oldest first, a page at a time. */
export function TimelineView({ sessionId, version }: Props) {
  const [entries, setEntries] = useState<readonly AuditEntry[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<ApiError | undefined>();
  const [reloads, setReloads] = useState(0);
  const firstNew = useRef<string | undefined>(undefined);
  const list = useRef<HTMLOListElement>(null);

  useEffect(() => {
    let current = true;
    setLoading(true);
    setError(undefined);
    api.auditPage(sessionId, null, pageSize).then(
      (page) => {
        if (!current) return;
        setEntries(page.entries);
        setCursor(page.nextCursor);
        setLoading(false);
      },
      (failure: ApiError) => {
        if (!current) return;
        setEntries([]);
        setCursor(null);
        setError(failure);
        setLoading(false);
      },
    );
    return () => {
      current = false;
    };
  }, [sessionId, version, reloads]);

  useEffect(() => {
    // After "Load more", the first new entry takes the focus, so that the keyboard goes on from there.
    if (!firstNew.current) return;
    const element = list.current?.querySelector<HTMLElement>(`[data-entry="${CSS.escape(firstNew.current)}"]`);
    firstNew.current = undefined;
    element?.focus();
  }, [entries]);

  const loadMore = async () => {
    if (!cursor || loading) return;
    setLoading(true);
    try {
      const page = await api.auditPage(sessionId, cursor, pageSize);
      firstNew.current = page.entries[0]?.id;
      setEntries((all) => [...all, ...page.entries]);
      setCursor(page.nextCursor);
    } catch (failure) {
      setError(failure as ApiError);
    } finally {
      setLoading(false);
    }
  };

  return (
    <section class="view" aria-labelledby="timeline-heading">
      <div class="view-head">
        <h2 id="timeline-heading" tabIndex={-1}>
          Timeline
        </h2>
        <button type="button" onClick={() => setReloads((n) => n + 1)}>
          Refresh
        </button>
      </div>
      <p class="muted small">
        Everything recorded in session <code>{sessionId}</code>, oldest first{entries[0] ? `, from ${formatDate(entries[0].timestamp)}` : ""}.
      </p>
      {error?.code === "unauthorized" && <p class="muted">Sign in to read this session's timeline.</p>}
      {error && error.code !== "unauthorized" && <ErrorMessage error={error} context="The timeline could not be read" />}
      {!error && !loading && entries.length === 0 && <p>Nothing recorded in this session yet.</p>}
      {entries.length > 0 && (
        <ol class="timeline" ref={list}>
          {entries.map((entry) => (
            <TimelineEntry key={entry.id} entry={entry} />
          ))}
        </ol>
      )}
      <div class="actions" aria-live="polite">
        {loading && <p class="muted">Loading…</p>}
        {!loading && cursor && (
          <button type="button" onClick={loadMore}>
            Load more
          </button>
        )}
      </div>
    </section>
  );
}

function TimelineEntry({ entry }: { entry: AuditEntry }) {
  const ok = entry.outcome === undefined || badgeOf(entry.outcome) !== "error";
  const hasDetails = entry.type === "plugin_run" || entry.type === "tool_call";
  return (
    <li class={`entry entry--${entry.type}`} data-entry={entry.id} tabIndex={-1}>
      <div class="entry-head">
        <time dateTime={entry.timestamp} title={entry.timestamp}>
          {formatTime(entry.timestamp)}
        </time>
        <span class="entry-type">{typeNames[entry.type] ?? entry.type}</span>
        {entry.plugin && <code class="entry-plugin">{entry.plugin}</code>}
        {entry.outcome !== undefined && <span class={`badge badge--${badgeOf(entry.outcome)}`}>{entry.outcome}</span>}
        {entry.durationMs !== undefined && <span class="muted">{formatDuration(entry.durationMs)}</span>}
      </div>
      {entry.content !== undefined && <p class="entry-content">{entry.content}</p>}
      {entry.errorMessage && <p class="entry-error">{entry.errorMessage}</p>}
      {(entry.type === "approval_requested" || entry.type === "approval_decided") && <ApprovalDetails entry={entry} />}
      {hasDetails && (
        <details>
          <summary>
            Input and result<span class="preview">: {preview(entry)}</span>
          </summary>
          <dl class="io">
            <dt>Input</dt>
            <dd>
              <pre class="output" tabIndex={0}>
                {entry.input === undefined ? "(none)" : formatValue(entry.input)}
              </pre>
            </dd>
            <dt>{ok ? "Result" : "Error"}</dt>
            <dd>
              <pre class="output" tabIndex={0}>
                {entry.result !== undefined ? formatValue(entry.result) : (entry.errorMessage ?? "(none)")}
              </pre>
            </dd>
          </dl>
        </details>
      )}
      {entry.truncated && <p class="muted small">A field was shortened to fit the log.</p>}
    </li>
  );
}

/** A request (its run, until when it may be decided, its input) or a decision (by whom, why). */
function ApprovalDetails({ entry }: { entry: AuditEntry }) {
  return (
    <>
      <p class="entry-content small">
        Run <code>{entry.runId}</code>
        {entry.expiresAt && <> waits for an approver until {formatDateTime(entry.expiresAt)}</>}
        {entry.approver && (
          <>
            {" "}
            {entry.outcome} by {entry.approver}
          </>
        )}
        {entry.type === "approval_decided" && !entry.approver && <>: nobody decided in time</>}
        {entry.reason && <>: “{entry.reason}”</>}
      </p>
      {entry.input !== undefined && (
        <details>
          <summary>
            Input<span class="preview">: {preview({ ...entry, outcome: undefined })}</span>
          </summary>
          <pre class="output" tabIndex={0}>
            {formatValue(entry.input)}
          </pre>
        </details>
      )}
    </>
  );
}

/** One line of what went in and came out, for the closed entry. */
function preview(entry: AuditEntry): string {
  const short = (value: unknown) => {
    const text = typeof value === "string" ? value : (JSON.stringify(value) ?? "");
    const line = text.replace(/\s+/g, " ").trim();
    return line.length > 60 ? `${line.slice(0, 59)}…` : line;
  };
  const input = entry.input === undefined ? "" : short(entry.input);
  const output = entry.result !== undefined ? short(entry.result) : entry.outcome && entry.outcome !== "success" ? entry.outcome : "";
  return output ? `${input} → ${output}` : input;
}
