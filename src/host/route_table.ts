import type { HttpFunction } from "../http/http_function.js";

export interface RouteMatch {
  readonly fn: HttpFunction;
  readonly params: Record<string, string>;
}

export type RouteLookup =
  | { readonly kind: "match"; readonly match: RouteMatch }
  | { readonly kind: "method_not_allowed"; readonly allowed: readonly string[] }
  | { readonly kind: "not_found" };

interface CompiledRoute {
  readonly fn: HttpFunction;
  readonly pattern: RegExp;
  readonly paramNames: readonly string[];
}

/**
 * Matches request paths against the functions' own route templates, the way the Functions host
 * does: `{name}` is one path segment, `{name?}` an optional last segment, `{name:int}` constraints
 * are read as plain segments.
 */
export class RouteTable {
  private readonly routes: readonly CompiledRoute[];

  constructor(
    functions: readonly HttpFunction[],
    private readonly prefix = "api",
  ) {
    this.routes = functions.map((fn) => compile(fn));
  }

  lookup(method: string, pathname: string): RouteLookup {
    const prefix = `/${this.prefix}/`;
    if (pathname.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase()) return { kind: "not_found" };
    const path = pathname.slice(prefix.length).replace(/\/+$/, "");
    const allowed: string[] = [];
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (!route.fn.methods.includes(method.toUpperCase() as never)) {
        allowed.push(...route.fn.methods);
        continue;
      }
      const params: Record<string, string> = {};
      route.paramNames.forEach((name, index) => {
        const raw = found[index + 1];
        if (raw !== undefined) params[name] = safeDecode(raw);
      });
      return { kind: "match", match: { fn: route.fn, params } };
    }
    return allowed.length > 0 ? { kind: "method_not_allowed", allowed: [...new Set(allowed)] } : { kind: "not_found" };
  }
}

function compile(fn: HttpFunction): CompiledRoute {
  const paramNames: string[] = [];
  const segments = fn.route.split("/").map((segment) => {
    const param = /^\{([A-Za-z_][A-Za-z0-9_]*)(?::[^}?]+)?(\?)?\}$/.exec(segment);
    if (!param?.[1]) return { source: `/${escapeRegExp(segment)}`, optional: false };
    paramNames.push(param[1]);
    return { source: "/([^/]+)", optional: param[2] === "?" };
  });
  const body = segments.map((s) => (s.optional ? `(?:${s.source})?` : s.source)).join("");
  // Route matching is case-insensitive in the Functions host as well.
  return { fn, pattern: new RegExp(`^${body.slice(1)}$`, "i"), paramNames };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
