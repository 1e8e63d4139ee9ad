import type { HttpRequest } from "@azure/functions";

/**
 * The abort signal of an HTTP request: it fires when the client goes away before its answer is
 * out, so that a plugin run or a model call made for it can stop. @azure/functions' HttpRequest
 * carries none, so the local host, which sees the connection, registers one here per request and
 * the functions read it; in the Functions host, which tells a function nothing of its client
 * leaving, there is none and the work runs to its own deadline.
 */

/**
 * What a run can be cancelled by besides an AbortSignal: a client's departure, which makes an
 * AbortSignal only when something asks for one. In Node 20 an AbortSignal is one of the dearest
 * objects of a request (bench/README.md, "Where the time goes"), and a plugin run only needs to
 * hear of the departure.
 */
export interface Departure {
  readonly aborted: boolean;
  /** Calls `listener` when the client leaves (not if it has left already); returns the function that removes it. */
  onAbort(listener: () => void): () => void;
  /** An AbortSignal that aborts when the client leaves, made on first use. */
  readonly signal: AbortSignal;
}

/** A run's caller going away: a plain AbortSignal, or a client's departure. */
export type CallerSignal = AbortSignal | Departure;

/** The local host's side: `leave` when the connection closes before the answer was written. */
export class ClientDeparture implements Departure {
  aborted = false;
  private reason: Error | undefined;
  private controller: AbortController | undefined;
  private listeners: (() => void)[] | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  onAbort(listener: () => void): () => void {
    (this.listeners ??= []).push(listener);
    return () => {
      const index = this.listeners?.indexOf(listener) ?? -1;
      if (index >= 0) this.listeners!.splice(index, 1);
    };
  }

  leave(reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const listeners = this.listeners;
    this.listeners = undefined;
    for (const listener of listeners ?? []) listener();
  }
}

/** Subscribes `listener` to `signal` going off; returns the function that removes it. */
export function onCallerAbort(signal: CallerSignal, listener: () => void): () => void {
  if (signal instanceof AbortSignal) {
    signal.addEventListener("abort", listener);
    return () => signal.removeEventListener("abort", listener);
  }
  return signal.onAbort(listener);
}

/** Kept on the request under a key only this module knows, not in a WeakMap (see request_body.ts). */
const callerSignal = Symbol("callerSignal");
type WithCallerSignal = { [callerSignal]?: CallerSignal };

export function setRequestSignal(request: HttpRequest, signal: CallerSignal): void {
  (request as WithCallerSignal)[callerSignal] = signal;
}

/** The request's abort signal (made now if the host registered a departure). */
export function requestSignal(request: HttpRequest): AbortSignal | undefined {
  const signal = (request as WithCallerSignal)[callerSignal];
  return signal === undefined || signal instanceof AbortSignal ? signal : signal.signal;
}

/** What the request's run can be cancelled by, without making an AbortSignal for it: for the plugin runner. */
export function requestCallerSignal(request: HttpRequest): CallerSignal | undefined {
  return (request as WithCallerSignal)[callerSignal];
}
