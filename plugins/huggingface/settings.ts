/** The huggingface plugin's settings, parsed with the app's configuration at start (src/config/plugins_settings.ts). */
import * as z from "zod/mini";
import { httpUrl, settingDocs, text, wholeNumber } from "../../src/config/setting.js";

/** The hf-inference API that the router serves; HF_ENDPOINT replaces this base URL. */
const defaultEndpoint = "https://router.huggingface.co/hf-inference";

export const huggingFaceSettings = z.pipe(
  z.object({
    HF_TOKEN: z.optional(text()).register(settingDocs, {
      secret: true,
      default: "unset: huggingface disabled",
      local: "your token, if you use the plugin",
      azure: "unset (a Key Vault reference if wanted)",
      description: "Hugging Face access token",
    }),
    HF_ENDPOINT: z._default(httpUrl(), defaultEndpoint).register(settingDocs, {
      description: "base URL of the Inference API (`<base>/models/<model>`)",
    }),
    HF_MODEL: z
      ._default(
        z.string().check(z.regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)?$/, "must be a model id such as owner/name")),
        "distilbert/distilbert-base-uncased-finetuned-sst-2-english",
      )
      .register(settingDocs, { description: "model when the input names none" }),
    HF_TIMEOUT_MS: z._default(wholeNumber(100, 5 * 60 * 1000), 20_000).register(settingDocs, { description: "timeout of one Hugging Face request" }),
    HF_MAX_RETRIES: z._default(wholeNumber(0, 10), 3).register(settingDocs, {
      description: "retries on 429, 5xx and timeouts (exponential backoff with jitter, honouring `Retry-After`)",
    }),
  }),
  z.transform((env) => ({
    token: env.HF_TOKEN,
    endpoint: env.HF_ENDPOINT,
    model: env.HF_MODEL,
    timeoutMs: env.HF_TIMEOUT_MS,
    maxRetries: env.HF_MAX_RETRIES,
  })),
);

export type HuggingFaceSettings = z.output<typeof huggingFaceSettings>;
