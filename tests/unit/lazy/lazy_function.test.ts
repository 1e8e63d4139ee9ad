import { describe, expect, it } from "vitest";
import { z } from "zod";
import { jsonResponse } from "../../../src/http/api_response.js";
import { definePublicHttpFunction, type HttpHandler } from "../../../src/http/http_function.js";
import { lazyHttpFunction, lazyQueueFunction } from "../../../src/lazy/lazy_function.js";
import { defineQueueFunction } from "../../../src/runs/queue_function.js";
import { httpFunctions, queueFunctions } from "../../../functions/index.js";
import { httpRegistrations, queueRegistrations } from "../../../functions/registrations.js";

const route = { name: "ping", methods: ["GET"], route: "ping/{id}", access: "public" } as const;
const ping = definePublicHttpFunction({
  operationId: "ping",
  summary: "Pong",
  responses: { 200: { description: "Pong.", body: z.object({ pong: z.boolean() }) } },
  handler: async () => jsonResponse(200, { pong: true }),
});

/** A module load that counts its calls, and fails the first `failures` of them as an unreadable chunk would. */
function countedLoad(failures = 0) {
  let calls = 0;
  const load = async (): Promise<HttpHandler<"public">> => {
    calls += 1;
    if (calls <= failures) throw new Error("chunk not readable");
    return ping;
  };
  return { load, calls: () => calls };
}

describe("lazyHttpFunction", () => {
  it("is the route without its code, and binds the code it loads to that route", async () => {
    const lazy = lazyHttpFunction(route, countedLoad().load);
    expect({ name: lazy.name, methods: lazy.methods, route: lazy.route, access: lazy.access }).toEqual(route);
    const loaded = await lazy.load();
    expect({ name: loaded.name, methods: loaded.methods, route: loaded.route, access: loaded.access }).toEqual(route);
  });

  it("loads the module on the first call only: concurrent and later calls get the same function", async () => {
    const counted = countedLoad();
    const lazy = lazyHttpFunction(route, counted.load);
    expect(counted.calls()).toBe(0);
    const [first, second] = await Promise.all([lazy.load(), lazy.load()]);
    const third = await lazy.load();
    expect(counted.calls()).toBe(1);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it("tries a failed load again on the next call", async () => {
    const counted = countedLoad(1);
    const lazy = lazyHttpFunction(route, counted.load);
    await expect(lazy.load()).rejects.toThrow("chunk not readable");
    expect((await lazy.load()).name).toBe("ping");
    expect(counted.calls()).toBe(2);
  });
});

describe("lazyQueueFunction", () => {
  it("binds the code it loads to its trigger", async () => {
    const trigger = { name: "jobs", queueName: () => "jobs-queue", connection: "AzureWebJobsStorage" };
    const loaded = await lazyQueueFunction(trigger, async () => defineQueueFunction({ handler: async () => {} })).load();
    expect({ name: loaded.name, queueName: loaded.queueName, connection: loaded.connection }).toEqual(trigger);
  });
});

describe("the app's functions (functions/registrations.ts, loaded by functions/index.ts)", () => {
  it("are served by the local host with the routes and access they are registered with", () => {
    const summary = (fn: { name: string; methods: readonly string[]; route: string; access: string }) => [fn.name, fn.methods, fn.route, fn.access];
    expect(httpFunctions.map(summary)).toEqual(httpRegistrations.map(summary));
    expect(queueFunctions.map((fn) => [fn.name, fn.connection])).toEqual(queueRegistrations.map((fn) => [fn.name, fn.connection]));
    expect(new Set(httpRegistrations.map((fn) => fn.name)).size).toBe(httpRegistrations.length);
  });
});
