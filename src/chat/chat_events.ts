import { z } from "zod";
import { awaitingApprovalSchema } from "../approvals/approval_request.js";

/** `POST /api/chat`: the JSON answer, and the data of the final `reply` event of a stream. */
export const chatReplySchema = z
  .object({
    sessionId: z.string(),
    reply: z.string(),
    source: z.enum(["plugin", "llm"]),
    plugin: z.string().optional(),
    result: z.unknown().optional().meta({ description: "Any JSON value." }),
    runId: z.string().optional(),
    toolCalls: z.number().int().optional().meta({ description: "Tool calls the model made on the way to this reply." }),
    approval: awaitingApprovalSchema.optional().meta({ description: "`/run` of a plugin whose runs wait for an approver: the request (nothing ran yet)." }),
  })
  .meta({ id: "ChatReply" });

export type ChatReply = z.infer<typeof chatReplySchema>;

/**
 * What happens while a chat message is answered, in order; streamed as server-sent events, each
 * named by its `type` with the rest as its data (src/http/server_sent_events.ts).
 */
export const chatEventSchema = z
  .discriminatedUnion("type", [
    z.object({ type: z.literal("session"), sessionId: z.string() }),
    z.object({ type: z.literal("token"), text: z.string() }),
    z.object({ type: z.literal("tool_call"), id: z.string(), name: z.string(), arguments: z.unknown() }),
    z.object({
      type: z.literal("tool_result"),
      id: z.string(),
      name: z.string(),
      outcome: z.string().meta({ description: "`success`, or the error code the model was told about." }),
      result: z.unknown().optional(),
      error: z.string().optional(),
    }),
    // A run (of `/run`, or of a model's tool call) waits for an approver instead of running.
    awaitingApprovalSchema.extend({ type: z.literal("awaiting_approval") }),
    z.object({ type: z.literal("reply"), reply: chatReplySchema }),
  ])
  .meta({ id: "ChatEvent" });

export type ChatEvent = z.infer<typeof chatEventSchema>;
