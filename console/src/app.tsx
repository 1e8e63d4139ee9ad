import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { onUnauthorized, type ApiError } from "./api.js";
import { ApprovalsView } from "./approvals_view.js";
import type { Turn } from "./chat_turns.js";
import { ChatView } from "./chat_view.js";
import { PluginsView } from "./plugins_view.js";
import { SessionBar } from "./session_bar.js";
import { SignIn } from "./sign_in.js";
import { newSessionId, storedSessionId, storedToken, storeSessionId, storeToken } from "./storage.js";
import { TimelineView } from "./timeline_view.js";

const views = [
  { id: "plugins", label: "Plugins" },
  { id: "chat", label: "Chat" },
  { id: "timeline", label: "Timeline" },
  { id: "approvals", label: "Approvals" },
] as const;
type View = (typeof views)[number]["id"];

function viewFromHash(): View {
  const name = location.hash.replace(/^#\/?/, "");
  return views.find((view) => view.id === name)?.id ?? "plugins";
}

/** When the first view has been painted: the browser test reads this mark (performance.getEntriesByName). */
let firstViewMarked = false;
function markFirstView(): void {
  if (firstViewMarked) return;
  firstViewMarked = true;
  requestAnimationFrame(() => performance.mark("console:first-view"));
}

export function App() {
  const [view, setView] = useState<View>(viewFromHash);
  const [sessionId, setSessionId] = useState(storedSessionId);
  const [hasToken, setHasToken] = useState(() => storedToken() !== "");
  const [refused, setRefused] = useState<ApiError | undefined>();
  const [authVersion, setAuthVersion] = useState(0);
  const [recorded, setRecorded] = useState(0);
  const [turns, setTurns] = useState<Readonly<Record<string, readonly Turn[]>>>({});
  // Approvals is offered to approvers only (GET /api/approvals answers 403 to anyone else).
  const [approver, setApprover] = useState(false);
  const firstRender = useRef(true);

  useEffect(() => onUnauthorized((error) => setRefused(error)), []);
  useEffect(() => storeSessionId(sessionId), [sessionId]);

  useEffect(() => {
    const onHashChange = () => setView(viewFromHash());
    addEventListener("hashchange", onHashChange);
    if (viewFromHash() !== "plugins") markFirstView();
    return () => removeEventListener("hashchange", onHashChange);
  }, []);

  useEffect(() => {
    // A view chosen from the navigation takes the focus at its heading (not on the first load).
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    document.getElementById(`${view}-heading`)?.focus();
    document.title = `${views.find((v) => v.id === view)?.label} · CodexContinue console`;
  }, [view]);

  const signIn = (token: string) => {
    storeToken(token);
    setHasToken(storedToken() !== "");
    setRefused(undefined);
    setAuthVersion((n) => n + 1);
  };

  const signOut = () => {
    storeToken("");
    setHasToken(false);
    setAuthVersion((n) => n + 1);
  };

  const noteRecorded = useCallback(() => setRecorded((n) => n + 1), []);
  const updateTurns = useCallback(
    (update: (all: readonly Turn[]) => readonly Turn[]) => setTurns((bySession) => ({ ...bySession, [sessionId]: update(bySession[sessionId] ?? []) })),
    [sessionId],
  );

  return (
    <div class="page">
      <header class="top">
        <div class="top-row">
          <h1>
            CodexContinue <span class="subtitle">console</span>
          </h1>
          {hasToken && (
            <div class="signed-in">
              <span class="muted small">Signed in with a token</span>
              <button type="button" onClick={signOut}>
                Sign out
              </button>
            </div>
          )}
        </div>
        <SessionBar sessionId={sessionId} onChange={setSessionId} onNew={() => setSessionId(newSessionId())} />
        <nav aria-label="Views">
          <ul class="tabs">
            {views
              .filter(({ id }) => id !== "approvals" || approver || view === "approvals")
              .map(({ id, label }) => (
                <li key={id}>
                  <a href={`#${id}`} aria-current={view === id ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
      </header>
      <main>
        {refused && <SignIn refused={refused} hadToken={hasToken} onSignIn={signIn} />}
        {/* All of them stay mounted, so that a form, a conversation or a timeline page is as it was when its view comes back. */}
        <div hidden={view !== "plugins"}>
          <PluginsView sessionId={sessionId} authVersion={authVersion} onRan={noteRecorded} onLoaded={markFirstView} />
        </div>
        <div hidden={view !== "chat"}>
          <ChatView sessionId={sessionId} turns={turns[sessionId] ?? []} updateTurns={updateTurns} onTurnDone={noteRecorded} />
        </div>
        <div hidden={view !== "timeline"}>
          <TimelineView sessionId={sessionId} version={`${recorded}.${authVersion}`} />
        </div>
        <div hidden={view !== "approvals"}>
          <ApprovalsView authVersion={authVersion} active={view === "approvals"} onAccess={setApprover} />
        </div>
      </main>
      <footer class="foot muted small">
        Talks to this app's public API only, as any client may (<code>GET /api/openapi.json</code> describes it).
      </footer>
    </div>
  );
}
