import { z } from "zod";
import type { AnyPlugin } from "../../src/plugins/plugin.js";
import { testAnnotations } from "./plugin_context.js";

/** A plugin that takes only JSON input (no inputFromText) and has no formatReply. */
export const jsonOnlyPlugin: AnyPlugin = {
  name: "json_only",
  title: "JSON only",
  description: "takes JSON",
  annotations: testAnnotations,
  inputSchema: z.object({ n: z.number() }),
  initialize: async () => {},
  execute: async (data: { n: number }) => ({ doubled: data.n * 2 }),
  shutdown: async () => {},
};
