import * as z from "zod/mini";
import { httpUrl, oneOf, settingDocs, text, wholeNumber } from "./setting.js";

const llmEnvironment = z
  .object({
    LLM_PROVIDER: z.optional(oneOf(["ollama", "azure-openai", "none"])).register(settingDocs, {
      default: "from what is set: `azure-openai` if `AZURE_OPENAI_ENDPOINT`, else `ollama` if `OLLAMA_BASE_URL`, else `none`",
      local: "default",
      azure: "unset (Azure OpenAI when deployed)",
      description: "the chat's language model; `none` answers free text with 503 `llm_unavailable`",
    }),
    OLLAMA_BASE_URL: z.optional(httpUrl()).register(settingDocs, {
      local: "`http://localhost:11434` (`docker compose up ollama`)",
      description:
        "Ollama's URL, e.g. `http://localhost:11434` (`docker compose up ollama`), without `/v1`: the app talks to Ollama's OpenAI-compatible API at `<OLLAMA_BASE_URL>/v1`",
    }),
    OLLAMA_MODEL: z._default(z.string().check(z.minLength(1), z.maxLength(200)), "llama3.1").register(settingDocs, {
      azure: "unset",
      description: "an Ollama model that supports tools (`ollama pull llama3.1`)",
    }),
    AZURE_OPENAI_ENDPOINT: z.optional(httpUrl("must be an http(s) URL such as https://<resource>.openai.azure.com")).register(settingDocs, {
      local: "unset (or a resource of yours)",
      azure: "the account's endpoint (with `deployOpenAi`)",
      description: "`https://<resource>.openai.azure.com`",
    }),
    AZURE_OPENAI_DEPLOYMENT: z.optional(text()).register(settingDocs, {
      default: "unset (required with the endpoint)",
      azure: "`chat` (with `deployOpenAi`)",
      description: "the chat model deployment's name",
    }),
    AZURE_OPENAI_API_VERSION: z
      ._default(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}(-preview)?$/, "must look like 2024-10-21")), "2024-10-21")
      .register(settingDocs, {
        description: "data-plane API version",
      }),
    AZURE_OPENAI_API_KEY: z.optional(text()).register(settingDocs, {
      secret: true,
      default: "unset: Managed Identity",
      local: "a key, if you use a resource of yours",
      azure: "never set (local auth disabled)",
      description:
        "a key for local use only; in Azure the identity gets a token for `https://cognitiveservices.azure.com/.default` (role *Cognitive Services OpenAI User*)",
    }),
    LLM_TIMEOUT_MS: z._default(wholeNumber(100, 10 * 60 * 1000), 60_000).register(settingDocs, {
      description:
        "the `openai` SDK's `timeout`: how long one attempt waits for the answer to start (a non-streamed answer starts when it is complete); once a streamed answer flows, `CHAT_TIMEOUT_MS` bounds it",
    }),
    LLM_MAX_RETRIES: z._default(wholeNumber(0, 10), 2).register(settingDocs, {
      description:
        "the `openai` SDK's `maxRetries`: retries on 408, 409, 429, 5xx, timeouts and connection failures, with backoff, honouring `Retry-After` / `retry-after-ms` (never once a streamed answer has started)",
    }),
  })
  .check(
    z.superRefine((env, ctx) => {
      const provider = env.LLM_PROVIDER;
      if (provider === "ollama" && !env.OLLAMA_BASE_URL) {
        ctx.addIssue({ code: "custom", path: ["OLLAMA_BASE_URL"], message: "OLLAMA_BASE_URL must be set when LLM_PROVIDER is ollama" });
      }
      if (provider === "azure-openai" || (provider === undefined && env.AZURE_OPENAI_ENDPOINT)) {
        for (const name of ["AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_DEPLOYMENT"] as const) {
          if (!env[name]) ctx.addIssue({ code: "custom", path: [name], message: `${name} must be set to use Azure OpenAI` });
        }
      }
    }),
  );

/** The chat's language model: an explicit LLM_PROVIDER wins; otherwise Azure OpenAI when its endpoint is set, then Ollama, then none. */
export const llmSettings = z.pipe(
  llmEnvironment,
  z.transform((env) => {
    const provider = env.LLM_PROVIDER ?? (env.AZURE_OPENAI_ENDPOINT ? "azure-openai" : env.OLLAMA_BASE_URL ? "ollama" : "none");
    const limits = { timeoutMs: env.LLM_TIMEOUT_MS, maxRetries: env.LLM_MAX_RETRIES };
    // The refinement above guarantees what each provider needs.
    if (provider === "ollama") return { provider, baseUrl: env.OLLAMA_BASE_URL!, model: env.OLLAMA_MODEL, ...limits };
    if (provider === "azure-openai") {
      return {
        provider,
        endpoint: env.AZURE_OPENAI_ENDPOINT!,
        deployment: env.AZURE_OPENAI_DEPLOYMENT!,
        apiVersion: env.AZURE_OPENAI_API_VERSION,
        /** For local use only; in Azure the managed identity gets a token instead. */
        apiKey: env.AZURE_OPENAI_API_KEY,
        ...limits,
      };
    }
    return { provider };
  }),
);
