/** A value as the console shows it: text as it is, anything else as indented JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))} s`;
}

/** The local time of an ISO timestamp, to the millisecond (a turn's entries are milliseconds apart). */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const time = date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  return `${time}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

/** The day and the local time of an ISO timestamp: when a request was made, until when it may be decided. */
export function formatDateTime(iso: string): string {
  return `${formatDate(iso)} ${formatTime(iso)}`;
}

export function formatDate(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/**
 * What the raw Input field sends, read the way `/run <plugin> <input>` reads its input: a JSON
 * object or array as it is, anything else as text for the plugin to read; nothing for an empty
 * field. Text that starts like JSON but does not parse is refused here, with the parser's reason.
 */
export function inputData(text: string): { ok: true; data: unknown } | { ok: false; message: string } {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, data: undefined };
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      return { ok: true, data: JSON.parse(trimmed) };
    } catch (error) {
      return { ok: false, message: `Input starts like JSON but is not valid JSON: ${(error as Error).message}` };
    }
  }
  return { ok: true, data: trimmed };
}
