import { z } from "zod";
import type { AnyPlugin } from "../../src/plugins/plugin.js";

/** A plugin that takes only JSON input (no inputFromText) and has no formatReply. */
export const jsonOnlyPlugin: AnyPlugin = {
  name: "json_only",
  description: "takes JSON",
  inputSchema: z.object({ n: z.number() }),
  initialize: async () => {},
  execute: async (data: { n: number }) => ({ doubled: data.n * 2 }),
  shutdown: async () => {},
};
