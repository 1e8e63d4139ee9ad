import type { HttpFunction } from "../src/http/http_function.js";
import type { QueueFunction } from "../src/runs/queue_function.js";
import { httpRegistrations, queueRegistrations } from "./registrations.js";

/**
 * Every function of the app with its code loaded: what the local host serves and polls (it loads
 * them all at its start, and its requests then find them ready), and what the tests run. The
 * Functions entry (main.ts) does not import this: it loads each function on its first invocation.
 */
export const httpFunctions: readonly HttpFunction[] = await Promise.all(httpRegistrations.map((fn) => fn.load()));

export const queueFunctions: readonly QueueFunction[] = await Promise.all(queueRegistrations.map((fn) => fn.load()));
