import { z } from "zod";

const memoryRoles = ["user", "assistant", "tool", "note", "system"] as const;

export const memoryMessageSchema = z.object({
  role: z.enum(memoryRoles),
  content: z.string(),
  at: z.string(),
  plugin: z.string().optional(),
});

/** One remembered turn of a session, as stored in Redis and handed to plugins and the LLM. */
export type MemoryMessage = z.infer<typeof memoryMessageSchema>;
