/**
 * Row "adapter floor": what src/host/local_host.ts pays per request before any app code runs
 * (./adapter_floor.ts), with the app replaced by a trivial async handler.
 */
import type { HttpResponseInit } from "@azure/functions";
import { serveBehindAdapter } from "./adapter_floor.js";

/** The app replaced by the least it can be: an async function returning a JSON body. */
async function trivialHandler(): Promise<HttpResponseInit> {
  return { status: 200, jsonBody: { status: "success", plugin: "echo", result: "hello", durationMs: 0, runId: "00000000-0000-4000-8000-000000000000" } };
}

serveBehindAdapter("adapter-floor", trivialHandler);
