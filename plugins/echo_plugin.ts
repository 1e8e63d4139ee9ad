import { z } from "zod";
import { BasePlugin, type PluginEnvironment } from "../src/plugins/plugin.js";

const echoInput = z.strictObject({
  text: z.string().max(100_000).describe("The text to send back unchanged."),
});

type EchoInput = z.infer<typeof echoInput>;

/** Sends its input back: the smallest end-to-end check that the plugin path works. */
export class EchoPlugin extends BasePlugin<EchoInput, string> {
  readonly name = "echo";
  readonly title = "Echo";
  readonly description = "Returns the given text unchanged. Useful to test that plugins run.";
  readonly aliases = ["test"] as const;
  readonly annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
  readonly inputSchema = echoInput;

  constructor(_environment: PluginEnvironment) {
    super();
  }

  async execute(data: EchoInput): Promise<string> {
    return data.text;
  }

  inputFromText(text: string): EchoInput {
    return { text };
  }
}
