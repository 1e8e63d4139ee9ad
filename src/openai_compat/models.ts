import { z } from "zod";
import { OpenAiRequestError } from "./openai_error.js";

/**
 * The model ids this backend answers chat completions as. One: whatever language model is
 * configured behind it (or none, for `/run` alone), the plugins and the tool loop are the "model"
 * an OpenAI client talks to.
 */
export const openAiModelId = "codexcontinue";

/** When the model id was first served (2026-11-30), in seconds, as OpenAI's `created` is: fixed, so the list is the same on every call. */
const createdAt = 1_795_996_800;

/** `GET /api/v1/models`. */
export const openAiModelListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() })),
  })
  .meta({ id: "OpenAiModelList" });

/** `GET /v1/models`, in OpenAI's list shape. */
export function modelList(): z.infer<typeof openAiModelListSchema> {
  return { object: "list", data: [{ id: openAiModelId, object: "model", created: createdAt, owned_by: "codexcontinue" }] };
}

/** The model a request names must be one of the list: 404 `model_not_found` otherwise, as OpenAI answers. */
export function assertKnownModel(model: string): void {
  if (model === openAiModelId) return;
  throw new OpenAiRequestError(
    "not_found",
    `The model '${shown(model)}' does not exist; this API serves the model '${openAiModelId}' (GET /v1/models).`,
    "model",
    {
      openAiCode: "model_not_found",
    },
  );
}

/** The caller's own value, bounded, for the message. */
function shown(model: string): string {
  return model.length > 100 ? `${model.slice(0, 100)}…` : model;
}
