import { z } from "zod";
import { BasePlugin, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";

const agentInput = z.strictObject({
  instruction: z.string().trim().min(1).max(4000).describe("What to do, in plain words; the agent may use the other tools to do it."),
});

type AgentInput = z.infer<typeof agentInput>;
const agentResult = z.strictObject({
  reply: z.string().describe("The model's answer."),
  toolCalls: z.number().int().min(0).describe("How many tool calls the model made for it."),
});

type AgentResult = z.infer<typeof agentResult>;

/**
 * Runs one instruction through the language model and the tool loop, so that `/run agent ...`
 * and event-triggered runs can use the model. It is never offered to a model as a tool: its
 * default policy leaves out the llm channel, and where PLUGIN_POLICY adds it, the conversation the
 * agent runs does not offer it again (nor any plugin of the runs it is nested in).
 */
export class AgentPlugin extends BasePlugin<AgentInput, AgentResult> {
  readonly name = "agent";
  readonly title = "Agent";
  readonly description =
    "Carries out an instruction with the language model, which may call the other tools (calculator, memory, ...) to do it, and returns its answer.";
  // Its tools may write the session's memory; the model is another system. Never destructive: shell is never offered to a model.
  readonly annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true };
  readonly inputSchema = agentInput;
  readonly outputSchema = agentResult;
  // Several model turns and tool runs; still well inside the 230 s an HTTP-triggered function may take.
  readonly timeoutMs = 120_000;
  readonly defaultPolicy = { channels: ["execute", "chat", "queue", "mcp"] } as const;

  constructor(private readonly environment: PluginEnvironment) {
    super();
  }

  async execute(data: AgentInput, context: PluginContext): Promise<AgentResult> {
    return this.environment.agent.run(data.instruction, context);
  }

  inputFromText(text: string): AgentInput {
    return { instruction: text };
  }

  formatReply(result: AgentResult): string {
    return result.reply;
  }
}
