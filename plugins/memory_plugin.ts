import { z } from "zod";
import { AppError, BasePlugin, memoryMessageSchema, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";

const defaultLimit = 20;

/** Which fields each action takes; every other field is refused for it. */
const fieldsOf: Readonly<Record<Action, { required: readonly Field[]; optional: readonly Field[] }>> = {
  list: { required: [], optional: ["limit"] },
  read: { required: [], optional: ["limit"] },
  search: { required: ["query"], optional: ["limit"] },
  note: { required: ["text"], optional: [] },
  clear: { required: [], optional: [] },
};
type Field = "limit" | "query" | "text";
const actions = ["list", "read", "search", "note", "clear"] as const;
type Action = (typeof actions)[number];

/*
 * One object with an `action` enum and optional fields, not a union of one object per action:
 * a model's tool parameters must be a JSON Schema whose top level is {"type": "object"}, and a
 * union becomes a top-level oneOf that OpenAI refuses with 400. The rules a union would have
 * expressed (which fields each action needs, which it refuses) are checked by superRefine, and the
 * transform hands execute() one command per action.
 */
const memoryInput = z
  .strictObject({
    action: z
      .enum(actions)
      .describe(
        "list or read: the newest messages; search: messages containing `query`; note: remember `text`; clear: forget this session's messages (the audit log keeps them).",
      ),
    limit: z.number().int().min(1).max(200).optional().describe(`list, read and search: how many of the newest messages to return (default ${defaultLimit}).`),
    query: z.string().trim().min(1).max(200).optional().describe("search (required): the text to find, case-insensitively."),
    text: z.string().trim().min(1).max(4000).optional().describe("note (required): the note to remember in this session."),
  })
  .superRefine((input, context) => {
    const { required, optional } = fieldsOf[input.action];
    const allowed: readonly Field[] = [...required, ...optional];
    for (const field of required) {
      if (input[field] === undefined) context.addIssue({ code: "custom", path: [field], message: `action "${input.action}" needs "${field}"` });
    }
    for (const field of ["limit", "query", "text"] as const) {
      if (input[field] !== undefined && !allowed.includes(field)) {
        const takes = allowed.length > 0 ? `it takes only ${allowed.map((f) => `"${f}"`).join(", ")}` : "it takes no other field";
        context.addIssue({ code: "custom", path: [field], message: `action "${input.action}" does not take "${field}": ${takes}` });
      }
    }
  })
  .transform((input): MemoryCommand => {
    switch (input.action) {
      case "list":
      case "read":
        return { action: input.action, limit: input.limit ?? defaultLimit };
      // superRefine has made sure that the fields an action needs are there.
      case "search":
        return { action: "search", query: input.query!, limit: input.limit ?? defaultLimit };
      case "note":
        return { action: "note", text: input.text! };
      case "clear":
        return { action: "clear" };
    }
  });

/** What execute() works on: the input once validated, one shape per action. */
type MemoryCommand =
  | { action: "list" | "read"; limit: number }
  | { action: "search"; query: string; limit: number }
  | { action: "note"; text: string }
  | { action: "clear" };

type MemoryInput = MemoryCommand;

/** One result shape per action. */
const memoryResult = z.union([
  z.strictObject({ messages: z.array(memoryMessageSchema).describe("list and read: the newest messages, oldest first.") }),
  z.strictObject({ query: z.string(), matches: z.array(memoryMessageSchema).describe("search: the messages containing the query, oldest first.") }),
  z.strictObject({ stored: z.literal(true), note: z.string().describe("note: what was remembered.") }),
  z.strictObject({ cleared: z.literal(true), count: z.number().int().min(0).describe("clear: how many messages were forgotten.") }),
]);

type MemoryResult = z.infer<typeof memoryResult>;

/** Lists, searches, annotates or clears the current session's memory. Clearing is audited; the audit log is never touched. */
export class MemoryPlugin extends BasePlugin<MemoryInput, MemoryResult> {
  readonly name = "memory";
  readonly title = "Session memory";
  readonly description =
    'Works on the memory of the current chat session: {"action":"list","limit":20} lists the newest messages, ' +
    '{"action":"search","query":"..."} finds messages containing the text, {"action":"note","text":"..."} remembers a note, ' +
    '{"action":"clear"} forgets the messages (the audit log keeps them). Needs a session.';
  // A note adds to the memory and clear empties it, but the audit log keeps every message: nothing is lost for good.
  readonly annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
  readonly inputSchema = memoryInput;
  readonly outputSchema = memoryResult;

  constructor(_environment: PluginEnvironment) {
    super();
  }

  async execute(data: MemoryInput, context: PluginContext): Promise<MemoryResult> {
    const memory = context.memory;
    if (!memory) {
      throw new AppError("invalid_input", "the memory plugin works on a session: send a sessionId", { details: { plugin: this.name } });
    }
    switch (data.action) {
      case "list":
      case "read":
        return { messages: await memory.recent(data.limit) };
      case "search": {
        const needle = data.query.toLowerCase();
        const matches = (await memory.recent()).filter((m) => m.content.toLowerCase().includes(needle));
        return { query: data.query, matches: matches.slice(-data.limit) };
      }
      case "note":
        // A note is remembered with its turn, once the turn is in the audit log, and a failed memory
        // write then is only logged (memory is the turn's cache); a note lives nowhere else, so it is
        // taken only while memory answers: unreachable, this read fails with memory_unavailable.
        await memory.recent(1);
        await memory.append({ role: "note", content: data.text });
        return { stored: true, note: data.text };
      case "clear": {
        const count = (await memory.recent()).length;
        await memory.clear();
        return { cleared: true, count };
      }
    }
  }

  /** `/run memory [list|read] [n]`, `/run memory search <text>`, `/run memory note <text>`, `/run memory clear`; other text is a note. */
  inputFromText(text: string): unknown {
    const [verb = "", ...rest] = text.split(/\s+/);
    const argument = text.slice(verb.length).trim();
    switch (verb) {
      case "":
      case "list":
      case "read":
        return rest.length > 0 ? { action: verb || "list", limit: Number(argument) } : { action: verb || "list" };
      case "search":
        return { action: "search", query: argument };
      case "note":
        return { action: "note", text: argument };
      case "clear":
        return rest.length > 0 ? { action: "note", text } : { action: "clear" };
      default:
        return { action: "note", text };
    }
  }

  formatReply(result: MemoryResult): string {
    if ("stored" in result) return `Noted: ${result.note}`;
    if ("cleared" in result) return `Cleared ${result.count} message${result.count === 1 ? "" : "s"} from this session's memory.`;
    if ("matches" in result) {
      if (result.matches.length === 0) return `Nothing in this session's memory matches "${result.query}".`;
      return result.matches.map((m) => `${m.role}: ${m.content}`).join("\n");
    }
    if (result.messages.length === 0) return "This session has no messages yet.";
    return result.messages.map((m) => `${m.role}: ${m.content}`).join("\n");
  }
}
