import { jsonResponse } from "../src/http/api_response.js";
import { defineHttpFunction } from "../src/http/http_function.js";
import { modelList } from "../src/openai_compat/models.js";
import { openAiErrorResponse } from "../src/openai_compat/openai_error.js";

/** OpenAI's `GET /v1/models`: the model ids `POST /api/v1/chat/completions` answers as. */
export const openAiModels = defineHttpFunction({
  errorResponse: openAiErrorResponse,
  handler: async () => jsonResponse(200, modelList()),
});
