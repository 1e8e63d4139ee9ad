import { inspect } from "node:util";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { AppError } from "../../../src/errors/app_error.js";
import { createLogger } from "../../../src/logging/logger.js";
import type { PluginContext } from "../../../src/plugins/plugin.js";
import { failureOf } from "../../support/failure_of.js";
import { freePort } from "../../support/free_port.js";
import { HuggingFaceStandIn, replies } from "../../support/hugging_face_stand_in.js";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";
import { HuggingfacePlugin, type HuggingfaceTuning } from "../../../plugins/huggingface_plugin.js";

const token = "hf_StandInSecretToken0123456789abcdef";
const defaultModel = "distilbert/distilbert-base-uncased-finetuned-sst-2-english";
/** Short waits, but a cap long enough to honour Retry-After: 1. */
const fastBackoff: HuggingfaceTuning = { baseDelayMs: 5, maxDelayMs: 5000 };

let standIn: HuggingFaceStandIn;
beforeAll(async () => {
  standIn = await HuggingFaceStandIn.start();
});
afterAll(async () => {
  await standIn.close();
});
beforeEach(() => standIn.reset());

function pluginFor(environment: Record<string, string> = {}, tuning: HuggingfaceTuning = fastBackoff): HuggingfacePlugin {
  return new HuggingfacePlugin(
    pluginEnvironment({ HF_TOKEN: token, HF_ENDPOINT: standIn.url, HF_TIMEOUT_MS: "2000", HF_MAX_RETRIES: "2", ...environment }),
    tuning,
  );
}

/** Validates like the runner does, then executes. */
function run(plugin: HuggingfacePlugin, input: unknown, context: PluginContext = pluginContext()) {
  return plugin.execute(plugin.inputSchema.parse(input), context);
}

/** Everything an error carries, hidden properties and causes included, as text. */
function everythingIn(error: unknown): string {
  return `${inspect(error, { showHidden: true, depth: 10 })}\n${JSON.stringify(error)}\n${String(error)}`;
}

describe("HuggingfacePlugin metadata", () => {
  const plugin = new HuggingfacePlugin(pluginEnvironment({ HF_TOKEN: token }));

  it("is named huggingface, names its tasks and is never cached", () => {
    expect(plugin.name).toBe("huggingface");
    for (const task of ["text-classification", "summarization", "text-generation"]) expect(plugin.description).toContain(task);
    expect(plugin.description).toContain(defaultModel);
    expect("cacheTtlSeconds" in plugin).toBe(false);
  });

  it("describes every field of its input schema, nested ones included", () => {
    const schema = z.toJSONSchema(plugin.inputSchema, { io: "input" }) as {
      properties: Record<string, { description?: string; properties?: Record<string, { description?: string }> }>;
      additionalProperties: unknown;
    };
    expect(Object.keys(schema.properties).sort()).toEqual(["inputs", "model", "parameters", "task"]);
    expect(schema.additionalProperties).toBe(false);
    for (const [name, property] of Object.entries(schema.properties)) {
      expect(property.description, name).toBeTruthy();
      for (const [nested, p] of Object.entries(property.properties ?? {})) expect(p.description, `${name}.${nested}`).toBeTruthy();
    }
  });

  it("gives the run room for every attempt and wait that HF_TIMEOUT_MS and HF_MAX_RETRIES allow", () => {
    expect(pluginFor({ HF_TIMEOUT_MS: "1000", HF_MAX_RETRIES: "2" }, { maxDelayMs: 3000 }).timeoutMs).toBe(3 * 1000 + 2 * 3000);
    expect(new HuggingfacePlugin(pluginEnvironment()).timeoutMs).toBe(4 * 20_000 + 3 * 30_000);
  });

  it("can be constructed without a token (it refuses to run instead)", () => {
    expect(() => new HuggingfacePlugin(pluginEnvironment())).not.toThrow();
  });
});

describe("HuggingfacePlugin input schema", () => {
  const plugin = new HuggingfacePlugin(pluginEnvironment({ HF_TOKEN: token }));

  it("defaults the task to text-classification", () => {
    expect(plugin.inputSchema.parse({ inputs: "I love it" })).toEqual({ task: "text-classification", inputs: "I love it" });
  });

  it("accepts a task, a model id and the task's parameters", () => {
    const input = { task: "text-generation", inputs: "Once", model: "openai-community/gpt2", parameters: { max_new_tokens: 20, temperature: 0.7 } };
    expect(plugin.inputSchema.parse(input)).toEqual(input);
  });

  it("accepts inputs of exactly 10000 characters", () => {
    expect(plugin.inputSchema.safeParse({ inputs: "a".repeat(10_000) }).success).toBe(true);
  });

  it.each<[string, unknown]>([
    ["missing inputs", {}],
    ["empty inputs", { inputs: "" }],
    ["over-long inputs", { inputs: "a".repeat(10_001) }],
    ["unknown task", { task: "translation", inputs: "x" }],
    ["a model URL", { inputs: "x", model: "https://evil.example/models/x" }],
    ["a model path", { inputs: "x", model: "a/b/c" }],
    ["an unknown parameter", { inputs: "x", parameters: { beams: 2 } }],
    ["a parameter of another task", { inputs: "x", parameters: { temperature: 0.5 } }],
    ["an out-of-range parameter", { task: "text-generation", inputs: "x", parameters: { max_new_tokens: 0 } }],
    ["an extra key", { inputs: "x", provider: "together" }],
    ["not an object", "hello"],
  ])("rejects %s", (_label, input) => {
    expect(plugin.inputSchema.safeParse(input).success).toBe(false);
  });

  it("turns /run text into inputs for the default task", () => {
    expect(plugin.inputSchema.parse(plugin.inputFromText("what a day"))).toEqual({ task: "text-classification", inputs: "what a day" });
  });
});

describe("HuggingfacePlugin.formatReply", () => {
  const plugin = new HuggingfacePlugin(pluginEnvironment({ HF_TOKEN: token }));

  it("shows the top label with its score, a summary or the generated text", () => {
    expect(
      plugin.formatReply({
        task: "text-classification",
        model: "m",
        labels: [
          { label: "POSITIVE", score: 0.9987 },
          { label: "NEGATIVE", score: 0.0013 },
        ],
      }),
    ).toBe("POSITIVE (99.9%)");
    expect(plugin.formatReply({ task: "text-classification", model: "m", labels: [] })).toBe("no label");
    expect(plugin.formatReply({ task: "summarization", model: "m", summary: " Short. " })).toBe("Short.");
    expect(plugin.formatReply({ task: "text-generation", model: "m", generatedText: " and more\n" })).toBe("and more");
  });
});

describe("HuggingfacePlugin against the stand-in: success", () => {
  it("classifies text with the default model: POST /models/<model> with {inputs} and the bearer token", async () => {
    const result = await run(pluginFor(), { inputs: "I love this library" });
    expect(result).toEqual({
      task: "text-classification",
      model: defaultModel,
      labels: [
        { label: "POSITIVE", score: 0.9987 },
        { label: "NEGATIVE", score: 0.0013 },
      ],
    });
    expect(standIn.requests).toHaveLength(1);
    const [request] = standIn.requests;
    expect(request).toMatchObject({ method: "POST", path: `/models/${defaultModel}`, authorization: `Bearer ${token}` });
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({ inputs: "I love this library" });
  });

  it("sorts labels best first and passes classification parameters", async () => {
    standIn.script({
      body: [
        [
          { label: "NEGATIVE", score: 0.2 },
          { label: "POSITIVE", score: 0.8 },
        ],
      ],
    });
    const result = await run(pluginFor(), { inputs: "fine", parameters: { top_k: 2, function_to_apply: "softmax" } });
    expect(result).toMatchObject({ labels: [{ label: "POSITIVE" }, { label: "NEGATIVE" }] });
    expect(standIn.requests[0]?.body).toEqual({ inputs: "fine", parameters: { top_k: 2, function_to_apply: "softmax" } });
  });

  it("summarizes with the named model, generation settings under generate_parameters", async () => {
    const model = "facebook/bart-large-cnn";
    const inputs = "The tower is 324 metres tall. It was the tallest structure in the world for 41 years.";
    const result = await run(pluginFor(), { task: "summarization", model, inputs, parameters: { max_new_tokens: 60 } });
    expect(result).toEqual({ task: "summarization", model, summary: " The tower is 324 metres tall." });
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.requests[0]).toMatchObject({ method: "POST", path: `/models/${model}`, authorization: `Bearer ${token}` });
    expect(standIn.requests[0]?.body).toEqual({ inputs, parameters: { generate_parameters: { max_new_tokens: 60 } } });
  });

  it("generates text: POST /models/<model>/v1/completions with {model, prompt, max_tokens}", async () => {
    const model = "openai-community/gpt2";
    const result = await run(pluginFor(), {
      task: "text-generation",
      model,
      inputs: "Once upon a time",
      parameters: { max_new_tokens: 20, temperature: 0.5, stop: ["\n"] },
    });
    expect(result).toEqual({ task: "text-generation", model, generatedText: " and then 16 characters later, the end." });
    expect(standIn.requests).toHaveLength(1);
    expect(standIn.requests[0]).toMatchObject({ method: "POST", path: `/models/${model}/v1/completions`, authorization: `Bearer ${token}` });
    expect(standIn.requests[0]?.body).toEqual({ model, prompt: "Once upon a time", max_tokens: 20, temperature: 0.5, stop: ["\n"] });
  });

  it("keeps a path prefix of HF_ENDPOINT and ignores its trailing slash", async () => {
    await run(pluginFor({ HF_ENDPOINT: `${standIn.url}/hf-inference/` }), { inputs: "hello" });
    expect(standIn.requests[0]?.path).toBe(`/hf-inference/models/${defaultModel}`);
  });

  it("uses HF_MODEL when no model is given", async () => {
    const model = "cardiffnlp/twitter-roberta-base-sentiment-latest";
    await expect(run(pluginFor({ HF_MODEL: model }), { inputs: "hello" })).resolves.toMatchObject({ model });
    expect(standIn.requests[0]?.path).toBe(`/models/${model}`);
  });
});

describe("HuggingfacePlugin against the stand-in: retries", () => {
  it("waits as long as Retry-After: 1 asks after a 429, then succeeds on the second request", async () => {
    standIn.script(replies.rateLimited("1"));
    const started = performance.now();
    const result = await run(pluginFor(), { inputs: "hi" });
    expect(result.task === "text-classification" && result.labels[0]?.label).toBe("POSITIVE");
    expect(standIn.requests).toHaveLength(2);
    const gap = standIn.requests[1]!.receivedAt - standIn.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(1800);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it("honours Retry-After given as an HTTP date", async () => {
    // HTTP dates have whole seconds: two seconds ahead means a wait between one and two seconds.
    standIn.script(replies.rateLimited(new Date(Date.now() + 2000).toUTCString()));
    await expect(run(pluginFor(), { inputs: "hi" })).resolves.toMatchObject({ task: "text-classification" });
    expect(standIn.requests).toHaveLength(2);
    const gap = standIn.requests[1]!.receivedAt - standIn.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(900);
    expect(gap).toBeLessThan(2200);
  });

  it("never waits longer than the cap, whatever Retry-After says", async () => {
    standIn.script(replies.rateLimited("3600"));
    await expect(run(pluginFor({}, { baseDelayMs: 5, maxDelayMs: 150 }), { inputs: "hi" })).resolves.toBeDefined();
    const gap = standIn.requests[1]!.receivedAt - standIn.requests[0]!.receivedAt;
    expect(gap).toBeGreaterThanOrEqual(140);
    expect(gap).toBeLessThan(1000);
  });

  it("retries twice through 503 'model is loading', then succeeds on the third request", async () => {
    standIn.script(replies.modelLoading(0.02), replies.modelLoading(0.02));
    await expect(run(pluginFor(), { inputs: "hi" })).resolves.toMatchObject({ task: "text-classification" });
    expect(standIn.requests).toHaveLength(3);
    expect(standIn.requests.every((r) => r.path === `/models/${defaultModel}`)).toBe(true);
  });

  it("gives up with upstream_unavailable after 1 + HF_MAX_RETRIES requests when every one is a 500", async () => {
    standIn.answerEveryRequestWith(replies.serverError());
    const error = await failureOf(run(pluginFor({ HF_MAX_RETRIES: "3" }), { inputs: "hi" }));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.message).toBe("Hugging Face did not answer: 500");
    expect(error.details).toEqual({ status: 500, attempts: 4 });
    expect(standIn.requests).toHaveLength(4);
  });

  it("does not retry at all with HF_MAX_RETRIES=0", async () => {
    standIn.answerEveryRequestWith(replies.rateLimited("0"));
    const error = await failureOf(run(pluginFor({ HF_MAX_RETRIES: "0" }), { inputs: "hi" }));
    expect(error.details).toEqual({ status: 429, attempts: 1 });
    expect(standIn.requests).toHaveLength(1);
  });

  it("retries an attempt that outlives HF_TIMEOUT_MS, aborting it, then reports upstream_unavailable: timeout", async () => {
    standIn.answerEveryRequestWith(replies.slow(1500));
    const started = performance.now();
    const error = await failureOf(run(pluginFor({ HF_TIMEOUT_MS: "150", HF_MAX_RETRIES: "1" }), { inputs: "hi" }));
    expect(performance.now() - started).toBeLessThan(1400);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.message).toBe("Hugging Face did not answer: timeout");
    expect(error.details).toEqual({ status: "timeout", attempts: 2 });
    expect(standIn.requests).toHaveLength(2);
    // The client hung up: the stand-in saw both requests go away unanswered.
    await vi.waitFor(() => expect(standIn.requests.map((r) => r.aborted)).toEqual([true, true]));
  });

  it("retries when nothing listens, then reports upstream_unavailable: network error", async () => {
    const port = await freePort();
    const error = await failureOf(run(pluginFor({ HF_ENDPOINT: `http://127.0.0.1:${port}`, HF_MAX_RETRIES: "1" }), { inputs: "hi" }));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.details).toEqual({ status: "network error", attempts: 2 });
  });
});

describe("HuggingfacePlugin against the stand-in: cancellation", () => {
  it("stops promptly when the run's signal aborts during a wait, and sends nothing more", async () => {
    standIn.answerEveryRequestWith(replies.rateLimited("4"));
    const controller = new AbortController();
    const execution = run(pluginFor(), { inputs: "hi" }, pluginContext({ signal: controller.signal }));
    await vi.waitFor(() => expect(standIn.requests).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const abortedAt = performance.now();
    controller.abort();
    const error = await failureOf(execution);
    expect(performance.now() - abortedAt).toBeLessThan(300);
    expect(error.code).toBe("upstream_unavailable");
    expect(error.details).toEqual({ status: "cancelled", attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(standIn.requests).toHaveLength(1);
  });

  it("aborts the request in flight when the run's signal aborts", async () => {
    standIn.answerEveryRequestWith(replies.slow(3000));
    const controller = new AbortController();
    const execution = run(pluginFor(), { inputs: "hi" }, pluginContext({ signal: controller.signal }));
    await vi.waitFor(() => expect(standIn.requests).toHaveLength(1));
    controller.abort();
    expect((await failureOf(execution)).details).toEqual({ status: "cancelled", attempts: 1 });
    await vi.waitFor(() => expect(standIn.requests[0]?.aborted).toBe(true));
    expect(standIn.requests).toHaveLength(1);
  });

  it("sends nothing when the run's signal has already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await failureOf(run(pluginFor(), { inputs: "hi" }, pluginContext({ signal: controller.signal })));
    expect(error.details).toEqual({ status: "cancelled", attempts: 0 });
    expect(standIn.requests).toHaveLength(0);
  });
});

describe("HuggingfacePlugin against the stand-in: refusals", () => {
  it("maps a 400 to invalid_input with the upstream's message, after exactly one request", async () => {
    standIn.answerEveryRequestWith(replies.badRequest("Input is too long for this model"));
    const error = await failureOf(run(pluginFor(), { inputs: "hi" }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toBe("Hugging Face rejected the request (400): Input is too long for this model");
    expect(error.details).toEqual({ status: 400, task: "text-classification", model: defaultModel });
    expect(standIn.requests).toHaveLength(1);
  });

  it("maps an unknown model (404) to invalid_input without retrying", async () => {
    const error = await failureOf(run(pluginFor(), { inputs: "hi", model: "nobody/no-such-model" }));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("Model nobody/no-such-model does not exist");
    expect(standIn.requests).toHaveLength(1);
  });

  it("maps a rejected token (401) to plugin_disabled without retrying", async () => {
    standIn.answerEveryRequestWith({ status: 401, body: { error: "Invalid credentials in Authorization header" } });
    const error = await failureOf(run(pluginFor(), { inputs: "hi" }));
    expect(error.code).toBe("plugin_disabled");
    expect(error.message).toContain("HF_TOKEN");
    expect(standIn.requests).toHaveLength(1);
  });

  it("reports a success in the wrong shape as upstream_unavailable, without retrying", async () => {
    standIn.script({ body: { choices: [{ text: "not a classification" }] } });
    const error = await failureOf(run(pluginFor(), { inputs: "hi" }));
    expect(error.code).toBe("upstream_unavailable");
    expect(error.message).toContain("unexpected format");
    expect(standIn.requests).toHaveLength(1);
  });

  it("is disabled without HF_TOKEN, and sends nothing", async () => {
    const plugin = new HuggingfacePlugin(pluginEnvironment({ HF_ENDPOINT: standIn.url }), fastBackoff);
    const error = await failureOf(run(plugin, { inputs: "hi" }));
    expect(error.code).toBe("plugin_disabled");
    expect(error.message).toContain("set HF_TOKEN");
    expect(standIn.requests).toHaveLength(0);
  });
});

describe("HuggingfacePlugin never reveals the token", () => {
  it.each<[string, () => void, Record<string, string>]>([
    ["a 400 that echoes it", () => standIn.answerEveryRequestWith(replies.badRequest(`token ${token} is not allowed here`)), {}],
    ["a 400 that echoes part of it", () => standIn.answerEveryRequestWith(replies.badRequest(`bad token ${token.slice(0, 16)}...`)), {}],
    ["a 422 whose error object echoes it", () => standIn.answerEveryRequestWith({ status: 422, body: { error: { message: token } } }), {}],
    ["persistent 500s", () => standIn.answerEveryRequestWith(replies.serverError()), {}],
    ["persistent 429s", () => standIn.answerEveryRequestWith(replies.rateLimited("0")), {}],
    ["timeouts", () => standIn.answerEveryRequestWith(replies.slow(1000)), { HF_TIMEOUT_MS: "100" }],
  ])("not in the error nor the logs after %s", async (_label, script, environment) => {
    script();
    const lines: string[] = [];
    const logger = createLogger("debug", (_level, line) => lines.push(line));
    const error = await failureOf(run(pluginFor({ HF_MAX_RETRIES: "1", ...environment }), { inputs: "hi" }, pluginContext({ logger })));
    expect(error).toBeInstanceOf(AppError);
    expect(everythingIn(error)).not.toContain(token);
    expect(everythingIn(error)).not.toContain(token.slice(0, 16));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join("\n")).not.toContain(token);
    // The token did go out, where it belongs.
    expect(standIn.requests[0]?.authorization).toBe(`Bearer ${token}`);
  });
});
