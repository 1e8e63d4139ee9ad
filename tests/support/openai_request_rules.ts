/**
 * How OpenAI's chat completions API (and Azure OpenAI's, and the stand-in that plays both in the
 * tests) refuses a request, written from the API reference (docs corpus: "Create chat completion",
 * the `messages`, `tools` and `function.name` fields) and from the error bodies the service sends,
 * as quoted in public bug reports (each rule names its source). Written separately from the
 * application's own checks on purpose: a rule shared with the code under test could not catch
 * that code's mistakes.
 *
 * The first broken rule wins, as with the real service, and the answer is 400 with
 * {"error": {"message", "type": "invalid_request_error", "param", "code"}}.
 */

export interface OpenAiErrorBody {
  readonly error: { readonly message: string; readonly type?: string; readonly param?: string | null; readonly code: string | null };
}

export interface Refusal {
  readonly status: number;
  readonly body: OpenAiErrorBody;
}

const roles = ["system", "developer", "user", "assistant", "tool", "function"] as const;

/** The API reference: "Must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64." */
const namePattern = /^[a-zA-Z0-9_-]+$/;
const nameMaxLength = 64;

function refuse(message: string, param: string | null, code: string | null): Refusal {
  return { status: 400, body: { error: { message, type: "invalid_request_error", param, code } } };
}

/** A message content that is neither text nor an array of parts, whichever role sent it. */
function contentTypeRefusal(index: number, value: unknown): Refusal {
  return refuse(
    `Invalid type for 'messages[${index}].content': expected one of a string or array of objects, but got ${typeName(value)} instead.`,
    `messages[${index}].content`,
    "invalid_type",
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** JSON's name for a value's type, as the service words "but got an object instead". */
function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** The refusal for this request body, or undefined when the service would accept it. */
export function chatRequestRefusal(rawBody: string, options: { readonly modelRequired: boolean }): Refusal | undefined {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return refuse("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.", null, null);
  }
  if (!isObject(body)) return refuse(`Invalid type for request body: expected an object, but got ${typeName(body)} instead.`, null, "invalid_type");
  if (options.modelRequired && (typeof body.model !== "string" || body.model === "")) {
    return refuse("Missing required parameter: 'model'.", "model", "missing_required_parameter");
  }
  if (body.stream !== undefined && typeof body.stream !== "boolean") {
    return refuse(`Invalid type for 'stream': expected a boolean, but got ${typeName(body.stream)} instead.`, "stream", "invalid_type");
  }
  return messagesRefusal(body.messages) ?? toolsRefusal(body.tools);
}

function messagesRefusal(messages: unknown): Refusal | undefined {
  if (messages === undefined) return refuse("Missing required parameter: 'messages'.", "messages", "missing_required_parameter");
  if (!Array.isArray(messages)) {
    return refuse(`Invalid type for 'messages': expected an array of objects, but got ${typeName(messages)} instead.`, "messages", "invalid_type");
  }
  if (messages.length === 0) {
    return refuse("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array");
  }
  // Tool calls of the latest assistant message that no tool message has answered yet.
  let open: { index: number; ids: Set<string> } | undefined;
  for (const [i, message] of messages.entries()) {
    if (!isObject(message)) {
      return refuse(`Invalid type for 'messages[${i}]': expected an object, but got ${typeName(message)} instead.`, `messages[${i}]`, "invalid_type");
    }
    const role = message.role;
    if (role === undefined) return refuse(`Missing required parameter: 'messages[${i}].role'.`, `messages[${i}].role`, "missing_required_parameter");
    if (typeof role !== "string" || !(roles as readonly string[]).includes(role)) {
      return refuse(
        `Invalid value: '${String(role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
        `messages[${i}].role`,
        "invalid_value",
      );
    }
    // Source: promptflow PR #3130 (microsoft/promptflow), quoting the service:
    // "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'."
    if (role !== "tool" && open && open.ids.size > 0) {
      return refuse(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(", ")}`,
        `messages.[${open.index}].role`,
        null,
      );
    }
    const content = message.content;
    switch (role) {
      case "system":
      case "developer":
      case "user": {
        if (content === undefined)
          return refuse(`Missing required parameter: 'messages[${i}].content'.`, `messages[${i}].content`, "missing_required_parameter");
        if (typeof content !== "string" && !Array.isArray(content)) {
          return contentTypeRefusal(i, content);
        }
        open = undefined;
        break;
      }
      case "assistant": {
        const calls = message.tool_calls;
        if (calls !== undefined && calls !== null) {
          const refusal = toolCallsRefusal(calls, i);
          if (refusal) return refusal;
        }
        const hasCalls = Array.isArray(calls) && calls.length > 0;
        // Content may be left out (or null) only when the message carries tool calls.
        if ((content === undefined || content === null) && !hasCalls) {
          return refuse("Invalid value for 'content': expected a string, got null.", `messages.[${i}].content`, null);
        }
        if (content !== undefined && content !== null && typeof content !== "string" && !Array.isArray(content)) {
          return contentTypeRefusal(i, content);
        }
        open = hasCalls ? { index: i, ids: new Set((calls as { id: string }[]).map((call) => call.id)) } : undefined;
        break;
      }
      case "tool": {
        const id = message.tool_call_id;
        if (id === undefined)
          return refuse(`Missing required parameter: 'messages[${i}].tool_call_id'.`, `messages[${i}].tool_call_id`, "missing_required_parameter");
        if (typeof id !== "string") {
          return refuse(
            `Invalid type for 'messages[${i}].tool_call_id': expected a string, but got ${typeName(id)} instead.`,
            `messages[${i}].tool_call_id`,
            "invalid_type",
          );
        }
        if (content === undefined)
          return refuse(`Missing required parameter: 'messages[${i}].content'.`, `messages[${i}].content`, "missing_required_parameter");
        if (typeof content !== "string" && !Array.isArray(content)) {
          return contentTypeRefusal(i, content);
        }
        // Source: smarter-sh/smarter issue #264 (gpt-4-turbo): the service's message and param, word for word.
        if (!open?.ids.delete(id)) {
          return refuse(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            `messages.[${i}].role`,
            null,
          );
        }
        break;
      }
      case "function":
        open = undefined;
        break;
    }
  }
  if (open && open.ids.size > 0) {
    return refuse(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...open.ids].join(", ")}`,
      `messages.[${open.index}].role`,
      null,
    );
  }
  return undefined;
}

function toolCallsRefusal(calls: unknown, i: number): Refusal | undefined {
  const at = `messages[${i}].tool_calls`;
  if (!Array.isArray(calls)) return refuse(`Invalid type for '${at}': expected an array of objects, but got ${typeName(calls)} instead.`, at, "invalid_type");
  if (calls.length === 0)
    return refuse(`Invalid '${at}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, at, "empty_array");
  for (const [j, call] of calls.entries()) {
    const here = `${at}[${j}]`;
    if (!isObject(call)) return refuse(`Invalid type for '${here}': expected an object, but got ${typeName(call)} instead.`, here, "invalid_type");
    if (typeof call.id !== "string") return refuse(`Missing required parameter: '${here}.id'.`, `${here}.id`, "missing_required_parameter");
    if (call.type !== "function") return refuse(`Missing required parameter: '${here}.type'.`, `${here}.type`, "missing_required_parameter");
    const fn = call.function;
    if (!isObject(fn)) return refuse(`Missing required parameter: '${here}.function'.`, `${here}.function`, "missing_required_parameter");
    const nameRefusal = functionNameRefusal(fn.name, `${here}.function.name`);
    if (nameRefusal) return nameRefusal;
    // Arguments travel as JSON text, never as an object.
    if (typeof fn.arguments !== "string") {
      return refuse(
        `Invalid type for '${here}.function.arguments': expected a string, but got ${typeName(fn.arguments)} instead.`,
        `${here}.function.arguments`,
        fn.arguments === undefined ? "missing_required_parameter" : "invalid_type",
      );
    }
  }
  return undefined;
}

/**
 * Source: the service's answer quoted in run-llama/llama_index issue #16093 and
 * Vortiago/mcp-azure-devops PR #30: {"message": "Invalid 'tools[0].function.name': string does not
 * match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
 * "param": "tools[0].function.name", "code": "invalid_value"}; the same for a tool call's name in
 * a message (mcp-use/mcp-use issue #90).
 */
function functionNameRefusal(name: unknown, param: string): Refusal | undefined {
  if (name === undefined) return refuse(`Missing required parameter: '${param}'.`, param, "missing_required_parameter");
  if (typeof name !== "string") return refuse(`Invalid type for '${param}': expected a string, but got ${typeName(name)} instead.`, param, "invalid_type");
  if (name.length > nameMaxLength) {
    return refuse(
      `Invalid '${param}': string too long. Expected a string with maximum length ${nameMaxLength}, but got a string with length ${name.length} instead.`,
      param,
      "string_above_max_length",
    );
  }
  if (!namePattern.test(name)) {
    return refuse(`Invalid '${param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.`, param, "invalid_value");
  }
  return undefined;
}

function toolsRefusal(tools: unknown): Refusal | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools))
    return refuse(`Invalid type for 'tools': expected an array of objects, but got ${typeName(tools)} instead.`, "tools", "invalid_type");
  if (tools.length === 0)
    return refuse("Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.", "tools", "empty_array");
  for (const [i, tool] of tools.entries()) {
    const at = `tools[${i}]`;
    if (!isObject(tool)) return refuse(`Invalid type for '${at}': expected an object, but got ${typeName(tool)} instead.`, at, "invalid_type");
    if (tool.type !== "function") {
      return refuse(`Invalid value: '${String(tool.type)}'. Supported values are: 'function' and 'custom'.`, `${at}.type`, "invalid_value");
    }
    const fn = tool.function;
    if (!isObject(fn)) return refuse(`Missing required parameter: '${at}.function'.`, `${at}.function`, "missing_required_parameter");
    const nameRefusal = functionNameRefusal(fn.name, `${at}.function.name`);
    if (nameRefusal) return nameRefusal;
    if (fn.parameters !== undefined) {
      const refusal = parametersRefusal(String(fn.name), fn.parameters, `${at}.function.parameters`);
      if (refusal) return refusal;
    }
  }
  return undefined;
}

/**
 * The function's parameters: a JSON Schema whose top level is an object with properties, without
 * oneOf/anyOf/allOf/enum/not there.
 *
 * - No "type": "object" at the top (a zod discriminated union turned into JSON Schema is a bare
 *   `oneOf`). Source: browserbase/stagehand issue #1159 (OpenAI, 2025-10):
 *   "Invalid schema for function 'json': schema must be a JSON Schema of 'type: \"object\"', got 'type: \"None\"'.";
 *   with param "tools[N].function.parameters" and code "invalid_function_parameters" as in
 *   FoundationAgents/OpenManus issue #1162. A schema with another type names it
 *   (alibaba/spring-ai-alibaba issue #4576: got 'type: "string"'). Some deployments word the
 *   missing type as got 'type: null' (chatanywhere/GPT_API_free issue #403); tests match on the
 *   words before "got".
 * - A top-level combinator next to "type": "object". Source: nspady/google-calendar-mcp issue #39:
 *   {"message": "Invalid schema for function 'update-event': schema must have type 'object' and not
 *   have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level.", "type": "invalid_request_error",
 *   "param": "tools[5].function.parameters", "code": "invalid_function_parameters"}.
 * - An object without properties. Source: spring-projects/spring-ai issue #4776 and
 *   ericc-ch/copilot-api PR #192: "Invalid schema for function 'xxx': In context=(), object schema
 *   missing properties." (code invalid_function_parameters).
 */
function parametersRefusal(name: string, parameters: unknown, param: string): Refusal | undefined {
  const invalid = (reason: string) => refuse(`Invalid schema for function '${name}': ${reason}`, param, "invalid_function_parameters");
  if (!isObject(parameters)) return invalid(`${JSON.stringify(parameters)} is not of type 'object', 'boolean'.`);
  if (parameters.type !== "object") {
    const got = typeof parameters.type === "string" ? parameters.type : "None";
    return invalid(`schema must be a JSON Schema of 'type: "object"', got 'type: "${got}"'.`);
  }
  if (["oneOf", "anyOf", "allOf", "enum", "not"].some((keyword) => keyword in parameters)) {
    return invalid("schema must have type 'object' and not have 'oneOf'/'anyOf'/'allOf'/'enum'/'not' at the top level.");
  }
  if (!isObject(parameters.properties)) return invalid("In context=(), object schema missing properties.");
  return undefined;
}
