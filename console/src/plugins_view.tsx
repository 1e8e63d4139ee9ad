import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, ApiError, type AwaitingApprovalRun, type ExecuteResult, type CallerPlugin } from "./api.js";
import { AwaitingRun } from "./awaiting_run.js";
import { ErrorMessage } from "./error_message.js";
import { formatDuration, formatValue, inputData } from "./format.js";
import { dataFromDrafts, draftsFromData, hasFields, SchemaFields, type Drafts } from "./schema_form.js";

type RunState =
  | { readonly kind: "idle" }
  | { readonly kind: "running"; readonly plugin: string }
  | { readonly kind: "success"; readonly run: ExecuteResult; readonly elapsedMs: number }
  | { readonly kind: "awaiting"; readonly run: AwaitingApprovalRun }
  | { readonly kind: "error"; readonly plugin: string; readonly error: ApiError; readonly elapsedMs: number };

interface Props {
  readonly sessionId: string;
  /** Changes when the user signs in or out: the catalogue is the caller's own. */
  readonly authVersion: number;
  readonly onRan: () => void;
  readonly onLoaded: () => void;
}

export function PluginsView({ sessionId, authVersion, onRan, onLoaded }: Props) {
  const [plugins, setPlugins] = useState<readonly CallerPlugin[] | undefined>();
  const [loadError, setLoadError] = useState<ApiError | undefined>();
  const [selected, setSelected] = useState("");
  const [drafts, setDrafts] = useState<Drafts>({});
  const [inputText, setInputText] = useState("");
  const [run, setRun] = useState<RunState>({ kind: "idle" });
  const running = useRef(false);

  useEffect(() => {
    let current = true;
    setLoadError(undefined);
    api.plugins().then(
      (all) => {
        if (!current) return;
        // What this caller may run from here: POST /api/plugins/execute is the `execute` channel.
        const runnable = all.filter((plugin) => plugin.channels.includes("execute")).sort((a, b) => a.name.localeCompare(b.name));
        setPlugins(runnable);
        setSelected((name) => (runnable.some((p) => p.name === name) ? name : defaultPlugin(runnable)));
        onLoaded();
      },
      (error: ApiError) => {
        if (!current) return;
        setPlugins(undefined);
        setLoadError(error);
        onLoaded();
      },
    );
    return () => {
      current = false;
    };
  }, [authVersion]);

  const plugin = useMemo(() => plugins?.find((p) => p.name === selected), [plugins, selected]);

  const choose = (name: string) => {
    setSelected(name);
    setDrafts({});
    setInputText("");
    setRun({ kind: "idle" });
  };

  const changeField = (path: string, value: string | boolean) => {
    if (!plugin) return;
    const next = { ...drafts, [path]: value };
    setDrafts(next);
    const data = dataFromDrafts(plugin.inputSchema, next);
    setInputText(Object.keys(data).length === 0 ? "" : JSON.stringify(data, null, 2));
  };

  const changeInput = (text: string) => {
    setInputText(text);
    if (!plugin) return;
    // The form shows what Input holds when it is an object; plain text is for the plugin to read, and the form is cleared.
    const read = inputData(text);
    const value = read.ok ? read.data : undefined;
    setDrafts(value !== null && typeof value === "object" && !Array.isArray(value) ? draftsFromData(plugin.inputSchema, value as Record<string, unknown>) : {});
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    if (!plugin || running.current) return;
    const read = inputData(inputText);
    const started = performance.now();
    if (!read.ok) {
      setRun({ kind: "error", plugin: plugin.name, error: new ApiError(0, "invalid_json", read.message), elapsedMs: 0 });
      return;
    }
    running.current = true;
    setRun({ kind: "running", plugin: plugin.name });
    try {
      const result = await api.execute(plugin.name, read.data, sessionId);
      setRun(
        result.status === "awaiting_approval" ? { kind: "awaiting", run: result } : { kind: "success", run: result, elapsedMs: performance.now() - started },
      );
    } catch (error) {
      setRun({ kind: "error", plugin: plugin.name, error: error as ApiError, elapsedMs: performance.now() - started });
    } finally {
      running.current = false;
      // Recorded in the session's audit log either way (a refused run too).
      onRan();
    }
  };

  return (
    <section class="view view--split" aria-labelledby="plugins-heading">
      <h2 id="plugins-heading" tabIndex={-1}>
        Plugins
      </h2>
      {loadError?.code === "unauthorized" && <p class="muted">Sign in to see the plugins you may run.</p>}
      {loadError && loadError.code !== "unauthorized" && <ErrorMessage error={loadError} context="The plugins could not be listed" />}
      {!plugins && !loadError && <p class="muted">Loading the plugins…</p>}
      {plugins && plugins.length === 0 && <p>No plugin may be run by this caller.</p>}
      {plugins && plugins.length > 0 && (
        <form class="plugin-form" onSubmit={submit} noValidate>
          <div class="field">
            <label for="plugin-select">Plugin</label>
            <select id="plugin-select" value={selected} onChange={(e) => choose(e.currentTarget.value)} aria-describedby="plugin-description">
              {plugins.map((p) => (
                <option key={p.name} value={p.name}>
                  {p.name}
                </option>
              ))}
            </select>
          </div>
          {plugin && (
            <div id="plugin-description" class="description">
              <p>{plugin.description}</p>
              <p class="muted small">
                {plugin.aliases.length > 0 && <>Also called {plugin.aliases.join(", ")}. </>}
                Times out after {formatDuration(plugin.timeoutMs)}.
              </p>
              {plugin.needsApproval && <p class="small">A run waits for an approver's decision before it starts.</p>}
            </div>
          )}
          {plugin && hasFields(plugin.inputSchema) && (
            <fieldset class="fields">
              <legend>
                Fields <span class="muted small">(fill Input; * required)</span>
              </legend>
              <SchemaFields key={plugin.name} schema={plugin.inputSchema} drafts={drafts} onChange={changeField} idPrefix="field" />
            </fieldset>
          )}
          <div class="field">
            <label for="plugin-input">Input</label>
            <textarea
              id="plugin-input"
              rows={4}
              spellcheck={false}
              autoComplete="off"
              value={inputText}
              onInput={(e) => changeInput(e.currentTarget.value)}
              aria-describedby="plugin-input-hint"
            />
            <p class="hint" id="plugin-input-hint">
              What is sent: a JSON object, or text the plugin reads as <code>/run {plugin?.name ?? "<plugin>"} &lt;text&gt;</code> does. Recorded in this
              session.
            </p>
          </div>
          <div class="actions">
            <button type="submit" class="primary">
              Run
            </button>
          </div>
        </form>
      )}
      {plugins && plugins.length > 0 && <ResultRegion run={run} />}
    </section>
  );
}

/** The README's first examples where the caller may run them (neither needs a model or a key), else the first. */
function defaultPlugin(plugins: readonly CallerPlugin[]): string {
  return (plugins.find((p) => p.name === "calculator") ?? plugins.find((p) => p.name === "echo") ?? plugins[0])?.name ?? "";
}

function ResultRegion({ run }: { run: RunState }) {
  return (
    <section class="result" aria-labelledby="result-heading">
      <h3 id="result-heading">Result</h3>
      <div aria-live="polite" aria-atomic="true">
        {run.kind === "idle" && <p class="muted">Choose a plugin, fill in its input and press Run.</p>}
        {run.kind === "running" && <p class="muted">Running {run.plugin}…</p>}
        {run.kind === "success" && (
          <>
            <p class="status status--success">
              <span class="badge badge--success">success</span> {run.run.plugin} ran in {formatDuration(run.run.durationMs)}
              {run.run.cached && " (cached result)"}; answered in {formatDuration(run.elapsedMs)}.
            </p>
            <pre class="output" tabIndex={0}>
              {formatValue(run.run.result)}
            </pre>
            <p class="muted small">Run {run.run.runId}</p>
          </>
        )}
        {run.kind === "awaiting" && <AwaitingRun awaiting={run.run} />}
        {run.kind === "error" && (
          <>
            <ErrorMessage error={run.error} />
            {run.elapsedMs > 0 && <p class="muted small">Answered in {formatDuration(run.elapsedMs)}.</p>}
          </>
        )}
      </div>
    </section>
  );
}
