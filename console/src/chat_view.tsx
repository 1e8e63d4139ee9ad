import { useRef, useState } from "preact/hooks";
import { api, ApiError, type ChatReply } from "./api.js";
import { applyEvent, type AnswerPart, type Turn } from "./chat_turns.js";
import { AwaitingRun, badgeOf } from "./awaiting_run.js";
import { ErrorMessage } from "./error_message.js";
import { formatValue } from "./format.js";

interface Props {
  readonly sessionId: string;
  readonly turns: readonly Turn[];
  readonly updateTurns: (update: (turns: readonly Turn[]) => readonly Turn[]) => void;
  readonly onTurnDone: () => void;
}

let nextTurnId = 1;

export function ChatView({ sessionId, turns, updateTurns, onTurnDone }: Props) {
  const [message, setMessage] = useState("");
  const [busy, setBusy] = useState(false);
  const sending = useRef(false);
  // Said once a turn is over (the conversation itself is not a live region: it would read every token).
  const [announcement, setAnnouncement] = useState("");
  const messageRef = useRef<HTMLTextAreaElement>(null);

  const send = async (event?: Event) => {
    event?.preventDefault();
    const text = message.trim();
    if (text === "" || sending.current) return;
    sending.current = true;
    const id = nextTurnId++;
    const update = (change: (turn: Turn) => Turn) => updateTurns((all) => all.map((turn) => (turn.id === id ? change(turn) : turn)));
    updateTurns((all) => [...all, { id, message: text, parts: [] }]);
    setMessage("");
    setBusy(true);
    try {
      const reply = await api.chat(text, sessionId, (chatEvent) => update((turn) => applyEvent(turn, chatEvent)));
      setAnnouncement(`${speakerOf(reply)}: ${reply.reply}`);
    } catch (error) {
      const failure = error instanceof ApiError ? error : new ApiError(0, "internal_error", String(error));
      update((turn) => ({ ...turn, error: failure }));
      setAnnouncement(`Error ${failure.code}: ${failure.message}`);
    } finally {
      sending.current = false;
      setBusy(false);
      onTurnDone();
      messageRef.current?.focus();
    }
  };

  const onKeyDown = (event: KeyboardEvent) => {
    // Enter sends, Shift+Enter starts a new line (as in most chat applications).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) void send(event);
  };

  return (
    <section class="view" aria-labelledby="chat-heading">
      <h2 id="chat-heading" tabIndex={-1}>
        Chat
      </h2>
      <p class="muted small">
        <code>/run &lt;plugin&gt; &lt;input&gt;</code> runs a plugin; anything else goes to the language model, which may call plugins as tools.
      </p>
      <ol class="conversation" aria-label="Conversation">
        {turns.length === 0 && <li class="muted empty">No message in this session yet from this page. Earlier turns are in the Timeline.</li>}
        {turns.map((turn) => (
          <li key={turn.id} class="turn">
            <div class="bubble bubble--user">
              <span class="speaker">You</span>
              <p class="text">{turn.message}</p>
            </div>
            <div class="bubble bubble--reply" aria-busy={!turn.reply && !turn.error ? "true" : "false"}>
              <span class="speaker">{speakerOf(turn.reply)}</span>
              {turn.parts.map((part, index) =>
                part.kind === "text" ? (
                  <p key={index} class="text">
                    {part.text}
                  </p>
                ) : part.kind === "approval" ? (
                  <AwaitingRun key={part.awaiting.runId} awaiting={part.awaiting} />
                ) : (
                  <ToolCall key={part.id} part={part} />
                ),
              )}
              {!turn.reply && !turn.error && turn.parts.length === 0 && <p class="muted">Waiting for the answer…</p>}
              {turn.error && <ErrorMessage error={turn.error} />}
            </div>
          </li>
        ))}
      </ol>
      <p class="visually-hidden" aria-live="polite">
        {announcement}
      </p>
      <form class="chat-form" onSubmit={send}>
        <div class="field">
          <label for="chat-message">Message</label>
          <textarea
            id="chat-message"
            ref={messageRef}
            rows={2}
            value={message}
            onInput={(e) => setMessage(e.currentTarget.value)}
            onKeyDown={onKeyDown}
            aria-describedby="chat-message-hint"
          />
          <p class="hint" id="chat-message-hint">
            Enter sends; Shift+Enter starts a new line.
          </p>
        </div>
        <div class="actions">
          <button type="submit" class="primary" aria-disabled={busy ? "true" : undefined}>
            {busy ? "Sending…" : "Send"}
          </button>
        </div>
      </form>
    </section>
  );
}

function speakerOf(reply: ChatReply | undefined): string {
  if (!reply) return "Answer";
  if (reply.source === "plugin") return `Plugin ${reply.plugin ?? ""}`.trim();
  return reply.toolCalls ? `Model (${reply.toolCalls} tool call${reply.toolCalls === 1 ? "" : "s"})` : "Model";
}

function ToolCall({ part }: { part: Extract<AnswerPart, { kind: "tool" }> }) {
  const state = part.outcome === undefined ? "neutral" : badgeOf(part.outcome);
  return (
    <div class={`tool tool--${state}`}>
      <p class="tool-head">
        <span class="tool-label">Tool call</span> <code>{part.name}</code> <span class={`badge badge--${state}`}>{part.outcome ?? "running…"}</span>
      </p>
      <details>
        <summary>Arguments{part.outcome !== undefined ? " and result" : ""}</summary>
        <pre class="output" tabIndex={0}>
          {formatValue(part.arguments)}
        </pre>
        {part.outcome !== undefined && (
          <pre class="output" tabIndex={0}>
            {part.error ?? formatValue(part.result)}
          </pre>
        )}
      </details>
    </div>
  );
}
