import { z } from "zod";
import { AppError, BasePlugin, type MemoryMessage, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";

const limit = z.number().int().min(1).max(200).default(20).describe("How many of the newest messages to return.");

const memoryInput = z.discriminatedUnion("action", [
  z.strictObject({ action: z.literal(["list", "read"]).describe("List the newest messages."), limit }),
  z.strictObject({
    action: z.literal("search").describe("Find messages that contain the query, case-insensitively."),
    query: z.string().trim().min(1).max(200),
    limit,
  }),
  z.strictObject({
    action: z.literal("note").describe("Remember a note in this session."),
    text: z.string().trim().min(1).max(4000).describe("The note to remember in this session."),
  }),
  z.strictObject({ action: z.literal("clear").describe("Forget this session's messages (the audit log keeps them).") }),
]);

type MemoryInput = z.infer<typeof memoryInput>;
type MemoryResult =
  | { messages: MemoryMessage[] }
  | { query: string; matches: MemoryMessage[] }
  | { stored: true; note: string }
  | { cleared: true; count: number };

/** Lists, searches, annotates or clears the current session's memory. Clearing is audited; the audit log is never touched. */
export class MemoryPlugin extends BasePlugin<MemoryInput, MemoryResult> {
  readonly name = "memory";
  readonly description =
    'Works on the memory of the current chat session: {"action":"list","limit":20} lists the newest messages, ' +
    '{"action":"search","query":"..."} finds messages containing the text, {"action":"note","text":"..."} remembers a note, ' +
    '{"action":"clear"} forgets the messages (the audit log keeps them). Needs a session.';
  readonly inputSchema = memoryInput;

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
