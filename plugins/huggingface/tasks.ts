/**
 * What the huggingface plugin needs before it calls Hugging Face: its tasks and result shapes. The
 * client itself (@huggingface/inference, in inference_attempt.ts) is imported on the plugin's first
 * run, a chunk of its own in the bundle.
 */
export const huggingFaceTasks = ["text-classification", "summarization", "text-generation"] as const;
export type HuggingFaceTask = (typeof huggingFaceTasks)[number];

interface LabelScore {
  readonly label: string;
  readonly score: number;
}

export type TaskOutput =
  | { readonly task: "text-classification"; readonly labels: LabelScore[] }
  | { readonly task: "summarization"; readonly summary: string }
  | { readonly task: "text-generation"; readonly generatedText: string };

/** Thrown when the run was cancelled, so the caller can tell it from an upstream failure. */
export class AttemptCancelled extends Error {
  constructor() {
    super("the run was cancelled");
    this.name = "AttemptCancelled";
  }
}
