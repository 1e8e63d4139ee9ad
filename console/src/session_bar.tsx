import { useEffect, useState } from "preact/hooks";
import { sessionIdPattern } from "./storage.js";

interface Props {
  readonly sessionId: string;
  readonly onChange: (sessionId: string) => void;
  readonly onNew: () => void;
}

/** The current session: chat turns and plugin runs of this page go to it, and the Timeline shows it. */
export function SessionBar({ sessionId, onChange, onNew }: Props) {
  const [draft, setDraft] = useState(sessionId);
  const [invalid, setInvalid] = useState(false);
  useEffect(() => {
    setDraft(sessionId);
    setInvalid(false);
  }, [sessionId]);

  const open = (event: Event) => {
    event.preventDefault();
    const value = draft.trim();
    if (!sessionIdPattern.test(value)) {
      setInvalid(true);
      return;
    }
    setInvalid(false);
    onChange(value);
  };

  return (
    <form class="session-bar" onSubmit={open} noValidate>
      <label for="session-id">Session</label>
      <input
        id="session-id"
        type="text"
        autoComplete="off"
        spellcheck={false}
        value={draft}
        onInput={(e) => setDraft(e.currentTarget.value)}
        aria-invalid={invalid ? "true" : undefined}
        aria-describedby={invalid ? "session-id-error" : undefined}
      />
      <button type="submit">Open</button>
      <button type="button" onClick={onNew}>
        New session
      </button>
      {invalid && (
        <p id="session-id-error" class="field-error" role="alert">
          A session id is 1 to 128 letters, digits, “_” or “-”.
        </p>
      )}
    </form>
  );
}
