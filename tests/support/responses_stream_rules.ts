/**
 * What a stream of OpenAI's Responses API (`POST /v1/responses` with `stream: true`) is, written
 * from OpenAI's API reference, each rule with its source:
 *
 * - [spec] OpenAI's OpenAPI document behind the reference (github.com/openai/openai-openapi,
 *   openapi.yaml): the `required` list of each `components.schemas.Response*Event`, of `Response`,
 *   `OutputMessage`, `OutputTextContent` and `ResponseError`, and the "Streaming" example of
 *   `POST /responses` (the events in their order, each named by its type, ending with
 *   `response.completed` and no `[DONE]`);
 * - [reference] https://developers.openai.com/api/reference/resources/responses/streaming-events
 *   ("When you create a Response with stream set to true, the server will emit server-sent events
 *   to the client as the Response is generated"), each event's description;
 * - [recorded] a stream recorded from OpenAI's API, prism-php/prism
 *   tests/Fixtures/openai/stream-basic-text-responses-1.json: `sequence_number` 0 on
 *   `response.created`, one more on each next event.
 *
 * Written separately from the application's own schemas on purpose: a rule shared with the code
 * under test could not catch that code's mistakes. Each problem starts with its rule's name.
 */

export interface SentEvent {
  /** The SSE `event` field, when the stream sent one. */
  readonly event?: string | undefined;
  readonly data: unknown;
}

/** The SSE text as its events: the `event` and the `data` lines of each block, the data as JSON. */
export function parseEventStream(text: string): SentEvent[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = value;
        if (field === "data") data.push(value);
      }
      return { event, data: JSON.parse(data.join("\n")) as unknown };
    });
}

/** [spec] the `required` list of each event's schema. */
const requiredFields: Record<string, readonly string[]> = {
  "response.created": ["type", "response", "sequence_number"],
  "response.in_progress": ["type", "response", "sequence_number"],
  "response.completed": ["type", "response", "sequence_number"],
  "response.failed": ["type", "response", "sequence_number"],
  "response.incomplete": ["type", "response", "sequence_number"],
  error: ["type", "code", "message", "param", "sequence_number"],
  "response.output_item.added": ["type", "output_index", "item", "sequence_number"],
  "response.output_item.done": ["type", "output_index", "item", "sequence_number"],
  "response.content_part.added": ["type", "item_id", "output_index", "content_index", "part", "sequence_number"],
  "response.content_part.done": ["type", "item_id", "output_index", "content_index", "part", "sequence_number"],
  "response.output_text.delta": ["type", "item_id", "output_index", "content_index", "delta", "sequence_number", "logprobs"],
  "response.output_text.done": ["type", "item_id", "output_index", "content_index", "text", "sequence_number", "logprobs"],
};

/** [spec] `Response.required`. */
const responseFields = [
  "id",
  "object",
  "created_at",
  "error",
  "incomplete_details",
  "instructions",
  "model",
  "tools",
  "output",
  "parallel_tool_calls",
  "metadata",
  "tool_choice",
  "temperature",
  "top_p",
];
/** [spec] `OutputMessage.required`. */
const messageFields = ["id", "type", "role", "content", "status"];

/** [reference] the events that end a response; [spec] nothing follows them (no `[DONE]`). */
const terminal = new Set(["response.completed", "response.failed", "response.incomplete", "error"]);
/** [reference] the status of the response each lifecycle event carries. */
const statusOf: Record<string, string> = {
  "response.created": "in_progress",
  "response.in_progress": "in_progress",
  "response.completed": "completed",
  "response.failed": "failed",
  "response.incomplete": "incomplete",
};

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);
const missing = (value: Json, fields: readonly string[]) => fields.filter((field) => !(field in value));

/** The problems of a response object: [spec] `Response`, `OutputMessage`, `OutputTextContent`, `ResponseError`. */
export function responseProblems(response: unknown, status?: string): string[] {
  if (!isObject(response)) return ["response: not an object"];
  const problems: string[] = [];
  const absent = missing(response, responseFields);
  if (absent.length > 0) problems.push(`response: lacks ${absent.join(", ")}`);
  if (response.object !== "response") problems.push(`response: object is ${JSON.stringify(response.object)}, not "response"`);
  if (typeof response.id !== "string" || typeof response.model !== "string") problems.push("response: id and model must be strings");
  if (!Number.isInteger(response.created_at)) problems.push("response: created_at must be Unix seconds");
  if (status !== undefined && response.status !== status) problems.push(`response: status is ${JSON.stringify(response.status)}, expected "${status}"`);
  if (response.status === "failed") {
    const error = response.error;
    if (!isObject(error) || typeof error.code !== "string" || typeof error.message !== "string")
      problems.push("response: a failed response's error must be {code, message}");
  } else if (response.error !== null && response.error !== undefined) {
    problems.push("response: error must be null unless it failed");
  }
  if (!Array.isArray(response.output)) return [...problems, "response: output must be an array"];
  for (const [index, item] of response.output.entries()) problems.push(...itemProblems(item, `response.output[${index}]`));
  return problems;
}

function itemProblems(item: unknown, at: string): string[] {
  if (!isObject(item)) return [`${at}: not an object`];
  const problems: string[] = [];
  const absent = missing(item, messageFields);
  if (absent.length > 0) problems.push(`${at}: lacks ${absent.join(", ")}`);
  if (item.type === "message" && item.role !== "assistant") problems.push(`${at}: an output message's role is "assistant"`);
  if (!["in_progress", "completed", "incomplete"].includes(String(item.status))) problems.push(`${at}: status ${JSON.stringify(item.status)}`);
  if (Array.isArray(item.content)) {
    for (const [index, part] of item.content.entries()) problems.push(...partProblems(part, `${at}.content[${index}]`));
  }
  return problems;
}

/** [spec] OutputTextContent requires `logprobs` as well, but its own examples leave it out: only `annotations` is required here. */
function partProblems(part: unknown, at: string): string[] {
  if (!isObject(part)) return [`${at}: not an object`];
  if (part.type !== "output_text") return [];
  return typeof part.text === "string" && Array.isArray(part.annotations) ? [] : [`${at}: an output_text part has text and annotations`];
}

/**
 * The problems of a stream, [] when it is one OpenAI's clients can read: every rule above, in the
 * order the events came.
 */
export function streamProblems(events: readonly SentEvent[]): string[] {
  const problems: string[] = [];
  const problem = (rule: string, index: number, text: string) => problems.push(`${rule}: event ${index}: ${text}`);
  if (events.length === 0) return ["order: the stream is empty"];
  let responseId: unknown;
  let ended: number | undefined;
  // Items by output_index: their id, their parts' texts as the deltas wrote them, and what was said done.
  const items: { id: unknown; open: boolean; parts: { text: string; deltas: string; open: boolean; done?: string }[]; done?: Json }[] = [];
  for (const [index, { event, data }] of events.entries()) {
    if (!isObject(data) || typeof data.type !== "string") {
      problem("type", index, "the data is not an object with a string type");
      continue;
    }
    const type = data.type;
    // [spec] the "Streaming" example names each event by its type.
    if (event !== undefined && event !== type) problem("type", index, `the SSE event is "${event}" but the type is "${type}"`);
    // [spec] sequence_number is required and an integer; [recorded] from 0, one more each time.
    if (data.sequence_number !== index) problem("sequence", index, `sequence_number is ${JSON.stringify(data.sequence_number)}, expected ${index}`);
    const required = requiredFields[type];
    if (required === undefined) {
      problem("fields", index, `"${type}" is not an event of this stream`);
      continue;
    }
    const absent = missing(data, required);
    if (absent.length > 0) problem("fields", index, `${type} lacks ${absent.join(", ")}`);
    if (ended !== undefined) problem("end", index, `${type} after the stream ended (event ${ended})`);
    if (terminal.has(type)) ended = index;
    // [spec] the "Streaming" example starts with response.created, then response.in_progress.
    if (index === 0 && type !== "response.created") problem("order", index, `the first event is ${type}, not response.created`);
    if (index === 1 && type !== "response.in_progress" && !terminal.has(type)) problem("order", index, `the second event is ${type}, not response.in_progress`);

    if (type in statusOf) {
      for (const text of responseProblems(data.response, statusOf[type])) problem("response", index, text);
      const response = data.response as Json;
      // [reference] one response: the same id in every lifecycle event.
      responseId ??= response?.id;
      if (response?.id !== responseId)
        problem("response", index, `the response id changed from ${JSON.stringify(responseId)} to ${JSON.stringify(response?.id)}`);
      if (type === "response.completed") {
        // [spec] the completed response's output is the items as they were done, and none is left open.
        if (items.some((item) => item.open)) problem("order", index, "response.completed while an output item is not done");
        const output = Array.isArray(response?.output) ? response.output : [];
        if (JSON.stringify(output) !== JSON.stringify(items.map((item) => item.done)))
          problem("text", index, "the completed response's output is not the items as output_item.done gave them");
      }
      continue;
    }
    const outputIndex = data.output_index;
    if (type === "response.output_item.added" || type === "response.output_item.done") {
      for (const text of itemProblems(data.item, "item")) problem("item", index, text);
      const item = data.item as Json;
      if (type === "response.output_item.added") {
        // [spec] items are added in order of output_index, in progress and empty.
        if (outputIndex !== items.length) problem("item", index, `output_index ${JSON.stringify(outputIndex)}, expected ${items.length}`);
        if (item?.status !== "in_progress" || !Array.isArray(item?.content) || item.content.length > 0)
          problem("item", index, "an added item is in progress, with no content yet");
        items.push({ id: item?.id, open: true, parts: [] });
        continue;
      }
      const known = items[outputIndex as number];
      if (!known?.open || known.id !== item?.id) {
        problem("order", index, `output_item.done of an item that is not open (${JSON.stringify(outputIndex)})`);
        continue;
      }
      if (known.parts.some((part) => part.open)) problem("order", index, "output_item.done while a content part is not done");
      if (item?.status !== "completed") problem("item", index, `a done item's status is ${JSON.stringify(item?.status)}`);
      const texts = Array.isArray(item?.content) ? item.content.map((part) => (part as Json).text) : [];
      if (JSON.stringify(texts) !== JSON.stringify(known.parts.map((part) => part.done)))
        problem("text", index, "the done item's content is not its parts as content_part.done gave them");
      known.open = false;
      known.done = item;
      continue;
    }
    // The events about a part: of an open item, by its id and index.
    const item = items[outputIndex as number];
    if (!item?.open || item.id !== data.item_id) {
      problem("order", index, `${type} of an item that is not open (${JSON.stringify(data.item_id)})`);
      continue;
    }
    const contentIndex = data.content_index as number;
    if (type === "response.content_part.added") {
      for (const text of partProblems(data.part, "part")) problem("part", index, text);
      if (contentIndex !== item.parts.length) problem("part", index, `content_index ${contentIndex}, expected ${item.parts.length}`);
      if ((data.part as Json)?.text !== "") problem("part", index, "an added output_text part is empty");
      item.parts.push({ text: "", deltas: "", open: true });
      continue;
    }
    const part = item.parts[contentIndex];
    if (!part?.open) {
      problem("order", index, `${type} of a part that is not open (${contentIndex})`);
      continue;
    }
    if (type === "response.output_text.delta") {
      if (typeof data.delta !== "string") problem("fields", index, "delta must be a string");
      if (part.done !== undefined) problem("order", index, "a delta after output_text.done");
      part.deltas += String(data.delta);
      continue;
    }
    if (type === "response.output_text.done") {
      // [reference] "Emitted when text content is finalized": the text the deltas wrote.
      if (data.text !== part.deltas)
        problem("text", index, `output_text.done says ${JSON.stringify(data.text)}, the deltas wrote ${JSON.stringify(part.deltas)}`);
      part.done = String(data.text);
      continue;
    }
    // response.content_part.done
    for (const text of partProblems(data.part, "part")) problem("part", index, text);
    if ((data.part as Json)?.text !== part.deltas) problem("text", index, "content_part.done's text is not the text the deltas wrote");
    part.done ??= String((data.part as Json)?.text);
    part.open = false;
  }
  if (ended === undefined) problems.push("end: the stream does not end with response.completed, response.failed, response.incomplete or error");
  return problems;
}
