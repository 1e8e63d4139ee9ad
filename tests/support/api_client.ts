/** What a test reads of an API answer: the status, the headers, the JSON body (undefined when not JSON) and the raw text. */
export interface ApiAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
  readonly text: string;
}

export interface ApiCallOptions {
  /** A string is sent as it is (malformed JSON, text/plain); anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Gives the request up when it aborts (the fetch then rejects). */
  readonly signal?: AbortSignal;
}

/** One request to a host the test started, over real HTTP, with `content-type: application/json` unless the test says otherwise. */
export async function callApi(baseUrl: string, method: string, path: string, options: ApiCallOptions = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const { body } = options;
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    signal: options.signal,
  });
  const text = await response.text();
  const json = response.headers.get("content-type")?.startsWith("application/json") ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, body: json, text };
}

/** Reads a run (`GET /api/runs/{runId}` through `read`) until it has succeeded or failed, for at most about ten seconds. */
export async function settledRun(read: (path: string) => Promise<ApiAnswer>, runId: string): Promise<ApiAnswer> {
  for (let i = 0; i < 200; i++) {
    const run = await read(`/api/runs/${runId}`);
    if (run.body?.state === "succeeded" || run.body?.state === "failed") return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`run ${runId} did not finish`);
}
