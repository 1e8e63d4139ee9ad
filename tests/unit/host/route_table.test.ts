import type { HttpMethod } from "@azure/functions";
import { describe, it, expect } from "vitest";
import { standardErrors } from "../../../src/http/api_response.js";
import type { HttpFunction } from "../../../src/http/http_function.js";
import { RouteTable, type RouteLookup } from "../../../src/host/route_table.js";

function fn(name: string, methods: HttpMethod[], route: string, access: HttpFunction["access"] = "caller"): HttpFunction {
  const contract = { operationId: name, summary: name, responses: {} };
  return { name, methods, route, access, contract, errorFormat: standardErrors, errorCodes: () => [], handler: async () => ({}) };
}

const functions: HttpFunction[] = [
  fn("listPlugins", ["GET"], "plugins"),
  fn("executePlugin", ["POST"], "plugins/execute"),
  fn("audit", ["GET"], "memory/audit/{sessionId}"),
  fn("clearMemory", ["DELETE"], "memory/{sessionId}"),
  fn("readMemory", ["GET"], "memory/{sessionId}"),
  fn("items", ["GET"], "items/{id?}"),
  fn("orders", ["GET", "PUT"], "orders/{id:int}"),
  fn("health", ["GET", "HEAD"], "health", "public"),
];

const table = new RouteTable(functions);

function matched(lookup: RouteLookup): { name: string; params: Record<string, string> } {
  if (lookup.kind !== "match") throw new Error(`expected a match, got ${JSON.stringify(lookup)}`);
  return { name: lookup.match.fn.name, params: lookup.match.params };
}

describe("RouteTable", () => {
  it("matches an exact route under /api/", () => {
    const lookup = table.lookup("GET", "/api/plugins");
    expect(lookup.kind).toBe("match");
    if (lookup.kind === "match") expect(lookup.match.fn).toBe(functions[0]);
    expect(matched(table.lookup("GET", "/api/health"))).toEqual({ name: "health", params: {} });
  });

  it("extracts route parameters", () => {
    expect(matched(table.lookup("GET", "/api/memory/audit/s-1"))).toEqual({ name: "audit", params: { sessionId: "s-1" } });
  });

  it("URL-decodes route parameters", () => {
    expect(matched(table.lookup("GET", "/api/memory/audit/a%20b%2Fc")).params).toEqual({ sessionId: "a b/c" });
    expect(matched(table.lookup("GET", "/api/memory/audit/caf%C3%A9")).params).toEqual({ sessionId: "café" });
  });

  it("keeps a parameter that is not valid percent-encoding as it is", () => {
    expect(matched(table.lookup("GET", "/api/memory/audit/100%")).params).toEqual({ sessionId: "100%" });
  });

  it("matches the route case-insensitively and keeps the parameter's case", () => {
    expect(matched(table.lookup("GET", "/api/Memory/AUDIT/AbC"))).toEqual({ name: "audit", params: { sessionId: "AbC" } });
    expect(matched(table.lookup("post", "/api/Plugins/Execute")).name).toBe("executePlugin");
  });

  it("matches the api prefix case-insensitively, as the Functions host does", () => {
    expect(matched(table.lookup("GET", "/API/plugins")).name).toBe("listPlugins");
  });

  it("ignores a trailing slash", () => {
    expect(matched(table.lookup("GET", "/api/plugins/")).name).toBe("listPlugins");
    expect(matched(table.lookup("GET", "/api/memory/audit/s1/"))).toEqual({ name: "audit", params: { sessionId: "s1" } });
  });

  it("does not match paths outside /api", () => {
    expect(table.lookup("GET", "/plugins")).toEqual({ kind: "not_found" });
    expect(table.lookup("GET", "/apis/plugins")).toEqual({ kind: "not_found" });
    expect(table.lookup("GET", "/other/api/plugins")).toEqual({ kind: "not_found" });
  });

  it("answers an unknown path with not_found", () => {
    expect(table.lookup("GET", "/api/nothing")).toEqual({ kind: "not_found" });
    expect(table.lookup("GET", "/api/memory")).toEqual({ kind: "not_found" });
    expect(table.lookup("GET", "/api/memory/audit/s1/extra")).toEqual({ kind: "not_found" });
  });

  it("answers a known path with the wrong method with method_not_allowed and the allowed methods", () => {
    expect(table.lookup("POST", "/api/plugins")).toEqual({ kind: "method_not_allowed", allowed: ["GET"] });
    expect(table.lookup("GET", "/api/plugins/execute")).toEqual({ kind: "method_not_allowed", allowed: ["POST"] });
    const orders = table.lookup("DELETE", "/api/orders/7");
    expect(orders.kind).toBe("method_not_allowed");
    if (orders.kind === "method_not_allowed") expect([...orders.allowed].sort()).toEqual(["GET", "PUT"]);
  });

  it("collects the allowed methods of every route matching the path", () => {
    const lookup = table.lookup("POST", "/api/memory/s1");
    expect(lookup.kind).toBe("method_not_allowed");
    if (lookup.kind === "method_not_allowed") expect([...lookup.allowed].sort()).toEqual(["DELETE", "GET"]);
  });

  it("picks the route with the method among several with the same template", () => {
    expect(matched(table.lookup("DELETE", "/api/memory/s1"))).toEqual({ name: "clearMemory", params: { sessionId: "s1" } });
    expect(matched(table.lookup("GET", "/api/memory/s1"))).toEqual({ name: "readMemory", params: { sessionId: "s1" } });
  });

  it("does not let plugins and plugins/execute shadow each other, in either order", () => {
    for (const list of [functions, [...functions].reverse()]) {
      const routes = new RouteTable(list);
      expect(matched(routes.lookup("GET", "/api/plugins")).name).toBe("listPlugins");
      expect(matched(routes.lookup("POST", "/api/plugins/execute")).name).toBe("executePlugin");
    }
  });

  it("treats {id?} as an optional last segment", () => {
    expect(matched(table.lookup("GET", "/api/items"))).toEqual({ name: "items", params: {} });
    expect(matched(table.lookup("GET", "/api/items/42"))).toEqual({ name: "items", params: { id: "42" } });
    expect(table.lookup("GET", "/api/items/42/more")).toEqual({ kind: "not_found" });
  });

  it("reads a constraint like {id:int} as a plain segment", () => {
    expect(matched(table.lookup("GET", "/api/orders/17"))).toEqual({ name: "orders", params: { id: "17" } });
    expect(matched(table.lookup("PUT", "/api/orders/abc"))).toEqual({ name: "orders", params: { id: "abc" } });
    expect(table.lookup("GET", "/api/orders")).toEqual({ kind: "not_found" });
  });

  it("escapes regular-expression characters in literal segments", () => {
    const routes = new RouteTable([fn("dotted", ["GET"], "v1.0/status")]);
    expect(matched(routes.lookup("GET", "/api/v1.0/status")).name).toBe("dotted");
    expect(routes.lookup("GET", "/api/v1x0/status")).toEqual({ kind: "not_found" });
  });

  it("uses another prefix when given", () => {
    const routes = new RouteTable(functions, "v2");
    expect(matched(routes.lookup("GET", "/v2/plugins")).name).toBe("listPlugins");
    expect(routes.lookup("GET", "/api/plugins")).toEqual({ kind: "not_found" });
  });
});
