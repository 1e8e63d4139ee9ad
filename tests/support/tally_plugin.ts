import { z } from "zod";
import { BasePlugin } from "../../src/plugins/plugin.js";

/** How many times a run of `tally` really ran, per key: a test counts executions with it. */
export const tallies = new Map<string, number>();

/** Counts its executions per key and answers the count (`/run tally <key>` takes the key as text). */
export class TallyPlugin extends BasePlugin<{ key: string }, { key: string; count: number }> {
  readonly name = "tally";
  readonly title = "Tally";
  readonly description = "Counts its runs per key.";
  readonly annotations = { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false };
  readonly inputSchema = z.strictObject({ key: z.string().min(1).max(200) });

  inputFromText(text: string): { key: string } {
    return { key: text };
  }

  async execute({ key }: { key: string }): Promise<{ key: string; count: number }> {
    const count = (tallies.get(key) ?? 0) + 1;
    tallies.set(key, count);
    return { key, count };
  }
}

/** Counts its starts in `tallies` as tally does, then runs past its timeout of 300 ms: a slow side effect (a deploy, a payment). */
export class SlowTallyPlugin extends BasePlugin<{ key: string }, { key: string }> {
  readonly name = "slowtally";
  readonly title = "Slow tally";
  readonly description = "Counts its starts per key, then runs past its timeout.";
  readonly annotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false };
  readonly inputSchema = z.strictObject({ key: z.string().min(1).max(200) });
  readonly timeoutMs = 300;

  async execute({ key }: { key: string }): Promise<{ key: string }> {
    tallies.set(key, (tallies.get(key) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { key };
  }
}
