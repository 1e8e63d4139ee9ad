import { z } from "zod";
import { AppError, BasePlugin, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";
import { AttemptCancelled, huggingFaceTasks, type HuggingFaceTask, type TaskOutput } from "./huggingface/tasks.js";
import { RetryableFailure, createRetryPolicy, defaultBackoffOptions, runWithRetries, type BackoffOptions } from "./huggingface/retry_policy.js";
import type { HuggingFaceSettings } from "./huggingface/settings.js";

/** Which task each parameter applies to; a parameter given for another task is refused. */
const parameterTasks = {
  top_k: ["text-classification"],
  function_to_apply: ["text-classification"],
  truncation: ["summarization"],
  clean_up_tokenization_spaces: ["summarization"],
  max_new_tokens: ["summarization", "text-generation"],
  temperature: ["text-generation"],
  top_p: ["text-generation"],
  seed: ["text-generation"],
  stop: ["text-generation"],
} as const satisfies Record<string, readonly HuggingFaceTask[]>;

const parametersSchema = z
  .strictObject({
    top_k: z.number().int().min(1).max(100).optional().describe("text-classification: how many labels to return, best first."),
    function_to_apply: z.enum(["sigmoid", "softmax", "none"]).optional().describe("text-classification: how the model's raw outputs become scores."),
    truncation: z
      .enum(["do_not_truncate", "longest_first", "only_first", "only_second"])
      .optional()
      .describe("summarization: how input longer than the model accepts is cut."),
    clean_up_tokenization_spaces: z.boolean().optional().describe("summarization: whether to remove extra spaces left by tokenization."),
    max_new_tokens: z.number().int().min(1).max(2048).optional().describe("summarization and text-generation: the most tokens to produce."),
    temperature: z.number().min(0).max(2).optional().describe("text-generation: sampling temperature; 0 is most deterministic."),
    top_p: z.number().gt(0).max(1).optional().describe("text-generation: nucleus sampling, the probability mass to sample from."),
    seed: z.number().int().min(0).optional().describe("text-generation: random seed, for repeatable sampling."),
    stop: z.array(z.string().min(1).max(100)).max(4).optional().describe("text-generation: up to 4 strings at which generation stops."),
  })
  .describe("Optional settings for the task; each applies only to the tasks it names.");

type Parameters = z.infer<typeof parametersSchema>;

const modelIdPattern = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/;

const huggingfaceInputSchema = z
  .strictObject({
    task: z
      .enum(huggingFaceTasks)
      .default("text-classification")
      .describe(
        "What to do with the text: text-classification (e.g. sentiment; returns labels with scores), " +
          "summarization (returns a summary) or text-generation (continues the text).",
      ),
    inputs: z.string().min(1).max(10_000).describe("The text to classify, summarize or continue (1 to 10000 characters)."),
    model: z
      .string()
      .max(200)
      .regex(modelIdPattern, "model must be a Hugging Face model id such as owner/name")
      .optional()
      .describe("A Hugging Face model id (owner/name) made for the task; omit to use the configured default model."),
    parameters: parametersSchema.optional(),
  })
  .superRefine((input, ctx) => {
    for (const key of Object.keys(input.parameters ?? {}) as (keyof typeof parameterTasks)[]) {
      const tasks: readonly HuggingFaceTask[] = parameterTasks[key];
      if (!tasks.includes(input.task)) {
        ctx.addIssue({
          code: "custom",
          path: ["parameters", key],
          message: `${key} applies to ${tasks.join(" and ")}, not to ${input.task}`,
        });
      }
    }
  });

export type HuggingfaceInput = z.infer<typeof huggingfaceInputSchema>;

/** One result shape per task, each naming the model that produced it. */
const huggingfaceResultSchema = z.discriminatedUnion("task", [
  z.strictObject({
    task: z.literal("text-classification"),
    model: z.string(),
    labels: z.array(z.strictObject({ label: z.string(), score: z.number() })).describe("Labels with their scores, best first."),
  }),
  z.strictObject({ task: z.literal("summarization"), model: z.string(), summary: z.string() }),
  z.strictObject({ task: z.literal("text-generation"), model: z.string(), generatedText: z.string() }),
]);

export type HuggingfaceResult = z.infer<typeof huggingfaceResultSchema>;

/** Only tests change these, to keep waits short; production uses the defaults. */
export interface HuggingfaceTuning {
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** The run's own timeout can never be longer than this, whatever the settings. */
const maxRunTimeoutMs = 10 * 60 * 1000;

/**
 * Runs text models on Hugging Face's Inference API (hf-inference) through @huggingface/inference:
 * POST <endpoint>/models/<model> for text-classification and summarization,
 * POST <endpoint>/models/<model>/v1/completions for text-generation.
 * Each attempt is bounded by HF_TIMEOUT_MS; 429, 5xx, timeouts and network errors are retried
 * HF_MAX_RETRIES times with jittered exponential backoff, honouring Retry-After. Results are not
 * cached: a model's answers may change.
 */
export class HuggingfacePlugin extends BasePlugin<HuggingfaceInput, HuggingfaceResult> {
  readonly name = "huggingface";
  readonly title = "Hugging Face model";
  readonly description: string;
  // It changes nothing here, but sends the text to Hugging Face.
  readonly annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: true };
  readonly inputSchema = huggingfaceInputSchema;
  readonly outputSchema = huggingfaceResultSchema;
  /**
   * Room for every attempt to time out and every wait to reach its cap; otherwise the runner's
   * default run timeout (5 s) would cut short the retries HF_TIMEOUT_MS and HF_MAX_RETRIES allow.
   */
  readonly timeoutMs: number;

  private readonly settings: HuggingFaceSettings;
  private readonly backoff: BackoffOptions;
  private readonly endpoint: string;

  constructor(environment: PluginEnvironment, tuning: HuggingfaceTuning = {}) {
    super();
    this.settings = environment.settings.huggingFace;
    this.backoff = {
      baseDelayMs: tuning.baseDelayMs ?? defaultBackoffOptions.baseDelayMs,
      maxDelayMs: tuning.maxDelayMs ?? defaultBackoffOptions.maxDelayMs,
    };
    this.endpoint = this.settings.endpoint.replace(/\/+$/, "");
    const { timeoutMs, maxRetries } = this.settings;
    this.timeoutMs = Math.min(maxRunTimeoutMs, (maxRetries + 1) * timeoutMs + maxRetries * this.backoff.maxDelayMs);
    this.description =
      "Runs a Hugging Face model on a text. Tasks: text-classification (for example sentiment; returns labels with scores, best first), " +
      "summarization (returns a summary) and text-generation (continues the text). " +
      `Without a model, uses the configured default, ${this.settings.model}; ` +
      "for another task, name a model (owner/name) made for it.";
  }

  disabledReason(): string | undefined {
    return this.settings.token ? undefined : "the huggingface plugin is disabled: set HF_TOKEN to a Hugging Face access token";
  }

  async execute(data: HuggingfaceInput, context: PluginContext): Promise<HuggingfaceResult> {
    const token = this.settings.token;
    if (!token) {
      throw new AppError("plugin_disabled", "the huggingface plugin is disabled: set HF_TOKEN to a Hugging Face access token");
    }
    const model = data.model ?? this.settings.model;
    const logger = context.logger.child({ task: data.task, model });
    // The Hugging Face client is imported on the first run (a chunk of its own in the bundle).
    const { attemptInference, createInferenceClient } = await import("./huggingface/inference_attempt.js");
    const client = createInferenceClient(token);
    const policy = createRetryPolicy(this.settings.maxRetries, this.backoff);
    let attempts = 0;
    policy.onRetry((event) => {
      const status = "error" in event && event.error instanceof RetryableFailure ? event.error.status : "unknown";
      logger.warn("Hugging Face attempt failed; retrying", { status, attempt: event.attempt, delayMs: Math.round(event.delay) });
    });
    const request = {
      task: data.task,
      model,
      inputs: data.inputs,
      parameters: taskParameters(data.task, data.parameters),
      endpoint: this.endpoint,
    };
    try {
      const output = await runWithRetries(
        policy,
        async (loopSignal) => {
          if (loopSignal.aborted) throw new AttemptCancelled();
          attempts += 1;
          return attemptInference(client, request, { token, runSignal: loopSignal, timeoutMs: this.settings.timeoutMs });
        },
        context.signal,
        () => new AttemptCancelled(),
      );
      logger.debug("Hugging Face answered", { attempts });
      return withModel(output, model);
    } catch (error) {
      throw this.failure(error, attempts, logger);
    }
  }

  inputFromText(text: string): z.input<typeof huggingfaceInputSchema> {
    return { inputs: text };
  }

  formatReply(result: HuggingfaceResult): string {
    switch (result.task) {
      case "text-classification": {
        const top = result.labels[0];
        return top ? `${top.label} (${formatScore(top.score)})` : "no label";
      }
      case "summarization":
        return result.summary.trim();
      case "text-generation":
        return result.generatedText.trim();
    }
  }

  private failure(error: unknown, attempts: number, logger: PluginContext["logger"]): AppError {
    if (error instanceof AppError) {
      logger.warn("Hugging Face request failed", { code: error.code, attempts });
      return error;
    }
    const status = error instanceof RetryableFailure ? error.status : error instanceof AttemptCancelled ? "cancelled" : "unknown";
    logger.warn("Hugging Face did not answer", { status, attempts });
    return new AppError("upstream_unavailable", `Hugging Face did not answer: ${status}`, { details: { status, attempts } });
  }
}

function withModel(output: TaskOutput, model: string): HuggingfaceResult {
  return { ...output, model };
}

/** The client's shape for each task's parameters: summarization keeps generation settings apart. */
function taskParameters(task: HuggingFaceTask, parameters: Parameters | undefined): Record<string, unknown> | undefined {
  if (!parameters || Object.keys(parameters).length === 0) return undefined;
  if (task === "summarization") {
    const { max_new_tokens, ...rest } = parameters;
    return max_new_tokens === undefined ? rest : { ...rest, generate_parameters: { max_new_tokens } };
  }
  return { ...parameters };
}

function formatScore(score: number): string {
  return `${(score * 100).toFixed(1)}%`;
}
