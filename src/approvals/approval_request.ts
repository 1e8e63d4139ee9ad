import { z } from "zod";
import type { Caller } from "../auth/caller.js";
import type { Channel } from "../auth/channel.js";
import type { ApprovalRule } from "../auth/plugin_policy.js";
import { runIdSchema } from "../runs/run_message.js";

/** The longest reason an approver may give with a decision. */
export const maxReasonChars = 1000;

/** What a run that waits for an approver answers, on every channel. */
export const awaitingApprovalSchema = z.object({
  state: z.literal("awaiting_approval"),
  runId: runIdSchema,
  /** The plugin's own name. */
  plugin: z.string(),
  expiresAt: z.string().meta({ description: "Until when an approver may decide; after it, the request is expired." }),
  location: z.string().meta({ description: "Where the requester reads the run: `/api/runs/{runId}` (also the `Location` header)." }),
});

export type AwaitingApproval = z.infer<typeof awaitingApprovalSchema>;

/** A run the policy holds for an approver: who asked it, where, what to run, and under which rule. */
export interface ApprovalRequest {
  readonly caller: Caller;
  readonly channel: Channel;
  /** The plugin's own name. */
  readonly plugin: string;
  /** The input as the plugin's schema validated it: what the approver sees and what runs once approved. */
  readonly input: unknown;
  readonly sessionId: string | undefined;
  readonly runId: string;
  readonly rule: ApprovalRule;
}

/** Where the runner leaves a run that waits for an approver (src/approvals/approval_service.ts). */
export interface ApprovalRequests {
  request(request: ApprovalRequest): Promise<AwaitingApproval>;
}

export function isAwaitingApproval(outcome: object): outcome is AwaitingApproval {
  return (outcome as Partial<AwaitingApproval>).state === "awaiting_approval";
}

/** One sentence for a person or a model: nothing ran yet, what happens next, where to look. */
export function awaitingApprovalText(awaiting: AwaitingApproval): string {
  return (
    `${awaiting.plugin} has not run: run ${awaiting.runId} awaits an approver's decision until ${awaiting.expiresAt}. ` +
    `It runs once approved; ${awaiting.location} shows its state and result.`
  );
}
