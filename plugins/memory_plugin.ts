import { z } from "zod";
import { AppError, BasePlugin, type MemoryMessage, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";

const memoryInput = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("read"),
    limit: z.number().int().min(1).max(200).default(20).describe("How many of the newest messages to return."),
  }),
  z.strictObject({
    action: z.literal("note"),
    text: z.string().trim().min(1).max(4000).describe("The note to remember in this session."),
  }),
]);

type MemoryInput = z.infer<typeof memoryInput>;
type MemoryResult = { messages: MemoryMessage[] } | { stored: true; note: string };

/** Reads the current session's recent messages, or stores a note in them. */
export class MemoryPlugin extends BasePlugin<MemoryInput, MemoryResult> {
  readonly name = "memory";
  readonly description =
    'Reads the recent messages of the current chat session ({"action":"read","limit":20}) or stores a note in it ({"action":"note","text":"..."}). Needs a session.';
  readonly inputSchema = memoryInput;

  constructor(_environment: PluginEnvironment) {
    super();
  }

  async execute(data: MemoryInput, context: PluginContext): Promise<MemoryResult> {
    if (!context.memory) {
      throw new AppError("invalid_input", "the memory plugin works on a session: send a sessionId", { details: { plugin: this.name } });
    }
    if (data.action === "read") return { messages: await context.memory.recent(data.limit) };
    await context.memory.append({ role: "note", content: data.text });
    return { stored: true, note: data.text };
  }

  /** `/run memory` or `/run memory read [n]` reads; `/run memory note <text>` stores a note. */
  inputFromText(text: string): unknown {
    const [verb = "", ...rest] = text.split(/\s+/);
    const argument = text.slice(verb.length).trim();
    if (verb === "" || verb === "read") return rest.length > 0 ? { action: "read", limit: Number(argument) } : { action: "read" };
    if (verb === "note") return { action: "note", text: argument };
    return { action: "note", text };
  }

  formatReply(result: MemoryResult): string {
    if ("stored" in result) return `Noted: ${result.note}`;
    if (result.messages.length === 0) return "This session has no messages yet.";
    return result.messages.map((m) => `${m.role}: ${m.content}`).join("\n");
  }
}
