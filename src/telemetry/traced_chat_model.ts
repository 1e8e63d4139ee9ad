import { context, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from "@opentelemetry/api";
import type { ChatModel, LlmRequest, LlmResponse, LlmStreamEvent } from "../llm/chat_model.js";
import { inSpan, outcomeOf, tracer } from "./tracing.js";

// OpenTelemetry's generative-AI names for the two providers.
const genAiSystem: Record<ChatModel["provider"], string> = { ollama: "ollama", "azure-openai": "az.ai.openai" };

/**
 * A span per model turn (`chat <model>`, CLIENT), around whichever ChatModel is configured, so
 * that the model clients themselves stay free of telemetry: the provider, the model, how many
 * tools were offered and called, and the outcome (`success` or the error code). Prompts,
 * replies and tool arguments never go into a span.
 */
export function tracedChatModel(model: ChatModel): ChatModel {
  const startAttributes = (request: LlmRequest): Attributes => ({
    "gen_ai.operation.name": "chat",
    "gen_ai.system": genAiSystem[model.provider],
    "gen_ai.request.model": model.model,
    "gen_ai.request.tool_count": request.tools.length,
    "gen_ai.request.message_count": request.messages.length,
  });
  const finish = (span: Span, response: LlmResponse) =>
    span.setAttributes({ "gen_ai.response.tool_call_count": response.toolCalls.length, "llm.outcome": "success" });
  return {
    provider: model.provider,
    model: model.model,
    complete: (request) =>
      inSpan(`chat ${model.model}`, { kind: SpanKind.CLIENT, attributes: { ...startAttributes(request), "llm.stream": false } }, async (span) => {
        try {
          const response = await model.complete(request);
          finish(span, response);
          return response;
        } catch (error) {
          span.setAttribute("llm.outcome", outcomeOf(error));
          throw error;
        }
      }),
    stream: (request) => tracedStream(model, request, startAttributes(request), finish),
    // The health check's probe: not a model call.
    ping: (signal) => model.ping(signal),
  };
}

/** The span lasts from the request until the last token, or until the consumer stops reading. */
async function* tracedStream(
  model: ChatModel,
  request: LlmRequest,
  attributes: Attributes,
  finish: (span: Span, response: LlmResponse) => void,
): AsyncIterable<LlmStreamEvent> {
  const span = tracer().startSpan(`chat ${model.model}`, { kind: SpanKind.CLIENT, attributes: { ...attributes, "llm.stream": true } });
  const active = trace.setSpan(context.active(), span);
  const iterator = context.with(active, () => model.stream(request)[Symbol.asyncIterator]());
  let outcome = "abandoned";
  let ended = false;
  try {
    for (;;) {
      const next = await context.with(active, () => iterator.next());
      if (next.done) {
        ended = true;
        // The provider's stream ended without its final response.
        if (outcome === "abandoned") outcome = "incomplete";
        break;
      }
      if (next.value.type === "done") {
        finish(span, next.value.response);
        outcome = "success";
      }
      yield next.value;
    }
  } catch (error) {
    ended = true;
    outcome = outcomeOf(error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
    throw error;
  } finally {
    span.setAttribute("llm.outcome", outcome);
    span.end();
    // A consumer that stops early (the caller went away) ends the provider's stream as well.
    if (!ended) await iterator.return?.();
  }
}
