import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { modelList, openAiModelListSchema } from "../src/openai_compat/models.js";
import { openAiErrors } from "../src/openai_compat/openai_error.js";

/** OpenAI's `GET /v1/models`: the model ids `POST /api/v1/chat/completions` answers as. */
export const openAiModels = defineHttpFunction({
  operationId: "openAiListModels",
  summary: "OpenAI-compatible: the model ids chat completions answer as",
  responses: { 200: { description: "OpenAI's model list.", body: openAiModelListSchema } },
  errorFormat: openAiErrors,
  handler: async () => jsonResponse(200, modelList()),
});
