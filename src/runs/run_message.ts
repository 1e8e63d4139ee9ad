import { createHash, randomUUID } from "node:crypto";
import { z } from "zod";
import { principalKeyPattern } from "../auth/caller.js";
import { stableJson } from "../cache/result_cache.js";
import { AppError } from "../errors/app_error.js";
import { sessionIdPattern, sessionIdSchema } from "../memory/session_id.js";

/** A run id names a run in the API, the runs table and the results container: the same rule as a session id. */
export const runIdPattern = sessionIdPattern;

export const runIdSchema = z.string().regex(runIdPattern, "must be 1-128 letters, digits, '_' or '-'");

export function isRunId(value: unknown): value is string {
  return typeof value === "string" && runIdPattern.test(value);
}

/** Where a run's status is read: the Location of an accepted asynchronous run. */
export function runLocation(runId: string): string {
  return `/api/runs/${runId}`;
}

/**
 * A Storage queue message holds at most 64 KiB; the app sends base64 JSON (see encodeRunMessage),
 * which makes 48 KiB of JSON the largest run it enqueues.
 */
export const maxQueueMessageChars = 64 * 1024;

const runMessageSchema = z.strictObject({
  runId: runIdSchema.optional(),
  /** Set by POST /api/plugins/execute with async: the principal key of the caller whose run it is. */
  owner: z.string().regex(principalKeyPattern, "must be a principal key").optional(),
  plugin: z.string().min(1).max(64),
  data: z.unknown().optional(),
  sessionId: sessionIdSchema.optional(),
});

/** A run request as it travels on the queue: `{runId?, plugin, data, sessionId?}` as plain JSON or base64-encoded JSON. */
export type RunMessage = z.infer<typeof runMessageSchema>;

/** A message that passed validation; the run id is the message's own or, without one, the queue message id. */
export interface ValidRunMessage {
  readonly runId: string;
  /** An accepted HTTP run's caller; undefined for a message another system put on the queue. */
  readonly owner: string | undefined;
  readonly plugin: string;
  readonly data: unknown;
  readonly sessionId: string | undefined;
}

export interface RejectedRunMessage {
  /** The message's own run id when it had a usable one. */
  readonly runId: string | undefined;
  /** The plugin it named, when it named one as a string. */
  readonly plugin: string | undefined;
  readonly problem: string;
  readonly issues: readonly { path: string; message: string }[];
  /** The message as text, for the record and the log (shortened by whoever stores it). */
  readonly text: string;
}

export type ParsedRunMessage = { readonly ok: true; readonly message: ValidRunMessage } | { readonly ok: false; readonly rejected: RejectedRunMessage };

/**
 * Reads a queue entry as the Functions worker hands it over with host.json `messageEncoding`
 * `none`: a message that is JSON arrives parsed (an object), anything else as its text; a Buffer is
 * read as UTF-8 text. Both encodings a producer may use are accepted:
 *
 * - an object is the message as it is;
 * - text that parses as a JSON object is that object (what `QueueClient.sendMessage(JSON.stringify(m))` sends);
 * - text that is strict base64 of UTF-8 JSON of an object is that object (what the app and the
 *   Functions docs' producers send).
 *
 * Nothing is read two ways: JSON object text starts with `{` (after blanks), which is no base64
 * character, and base64 of text starting with `{` starts with `e`, which no JSON text does;
 * `true`, `1234` or `"text"` are JSON but no object, and decode as base64 to no JSON object, so
 * they are rejected. Anything else is rejected with its text, for the run record.
 *
 * `messageId` (the queue message id, stable across redeliveries) becomes the run id of a message
 * without one, so that a redelivered message runs once even when its sender gave it no id.
 */
export function parseRunMessage(entry: unknown, messageId: string | undefined): ParsedRunMessage {
  const { value, text } = readEntry(entry);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      rejected: {
        runId: undefined,
        plugin: undefined,
        problem: value === undefined ? "the message is neither JSON nor base64-encoded JSON" : "the message is not a JSON object",
        issues: [],
        text,
      },
    };
  }
  const parsed = runMessageSchema.safeParse(value);
  if (!parsed.success) {
    const fields = value as Record<string, unknown>;
    return {
      ok: false,
      rejected: {
        runId: isRunId(fields.runId) ? fields.runId : undefined,
        plugin: typeof fields.plugin === "string" && fields.plugin !== "" ? fields.plugin.slice(0, 64) : undefined,
        problem: "the message does not match {runId?, plugin, data, sessionId?}",
        issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message })),
        text,
      },
    };
  }
  const message = parsed.data;
  return {
    ok: true,
    message: {
      runId: message.runId ?? (isRunId(messageId) ? messageId : randomUUID()),
      owner: message.owner,
      plugin: message.plugin,
      data: message.data ?? {},
      sessionId: message.sessionId,
    },
  };
}

/** What an accepted HTTP run's record remembers of its message (see RunRecord.messageDigest). */
export function runMessageDigest(message: Pick<ValidRunMessage, "plugin" | "data" | "sessionId">): string {
  return createHash("sha256")
    .update(stableJson({ plugin: message.plugin, data: message.data ?? {}, sessionId: message.sessionId ?? null }))
    .digest("hex");
}

/**
 * The message text the app puts on the queue: base64 of the JSON. Both encodings are read, but
 * base64 is what a host still configured with the default `messageEncoding` (an instance of an
 * earlier deployment) can run too, and no character of the data (U+FFFF, say, which XML forbids)
 * can make the queue service refuse the message.
 */
export function encodeRunMessage(message: RunMessage): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64");
}

/**
 * The message text of a run the app will queue, refused as 413 payload_too_large when the queue
 * would refuse it: asked before anything is recorded, so that no accepted run (an approval request
 * above all, queued only once decided) turns out to be one the queue cannot carry.
 */
export function queueableRunMessage(message: RunMessage): string {
  const text = encodeRunMessage(message);
  if (text.length > maxQueueMessageChars) {
    throw new AppError(
      "payload_too_large",
      `the run is too large to queue: a queue message holds at most ${maxQueueMessageChars} characters of base64 (48 KiB of JSON)`,
      { details: { maxMessageChars: maxQueueMessageChars, messageChars: text.length } },
    );
  }
  return text;
}

/** The entry's JSON value (undefined when it has none) and its text for the record; see parseRunMessage. */
function readEntry(entry: unknown): { value: unknown; text: string } {
  const text = textOf(entry);
  if (typeof entry !== "string" && !Buffer.isBuffer(entry)) return { value: entry, text };
  const json = tryJson(text);
  if (isObject(json)) return { value: json, text };
  const decoded = decodeBase64Utf8(text.trim());
  const inner = decoded === undefined ? undefined : tryJson(decoded);
  if (isObject(inner)) return { value: inner, text: decoded! };
  return { value: json, text };
}

function isObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** undefined when the text is not JSON. */
function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Strict base64 (as .NET's Convert.FromBase64String, less whitespace) of valid UTF-8: undefined
 * otherwise, so that bytes that are no text never pass for a message.
 */
export function decodeBase64Utf8(text: string): string | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  try {
    return strictUtf8.decode(Buffer.from(text, "base64"));
  } catch {
    return undefined;
  }
}

function textOf(entry: unknown): string {
  if (typeof entry === "string") return entry;
  if (Buffer.isBuffer(entry)) return entry.toString("utf8");
  try {
    return JSON.stringify(entry) ?? String(entry);
  } catch {
    return String(entry);
  }
}
