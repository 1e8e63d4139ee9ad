import type { HttpRequest } from "@azure/functions";

/**
 * The abort signal of an HTTP request: it fires when the client goes away before its answer is
 * out, so that a plugin run or a model call made for it can stop. @azure/functions' HttpRequest
 * carries none, so the local host, which sees the connection, registers one here per request and
 * the functions read it; in the Functions host, which tells a function nothing of its client
 * leaving, there is none and the work runs to its own deadline.
 */

/** Kept on the request under a key only this module knows, not in a WeakMap (see request_body.ts). */
const abortSignal = Symbol("abortSignal");
type WithAbortSignal = { [abortSignal]?: AbortSignal };

export function setRequestSignal(request: HttpRequest, signal: AbortSignal): void {
  (request as WithAbortSignal)[abortSignal] = signal;
}

/** The request's abort signal; undefined where the host tells of no client leaving. */
export function requestSignal(request: HttpRequest): AbortSignal | undefined {
  return (request as WithAbortSignal)[abortSignal];
}
