import type { HttpFunction } from "../http/http_function.js";

interface RouteMatch {
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
  /** `/api/`, lower-case: matched case-insensitively. */
  private readonly prefix: string;

  constructor(functions: readonly HttpFunction[], prefix = "api") {
    this.routes = functions.map((fn) => compile(fn));
    this.prefix = `/${prefix}/`.toLowerCase();
  }

  lookup(method: string, pathname: string): RouteLookup {
    const { prefix } = this;
    if (pathname.slice(0, prefix.length).toLowerCase() !== prefix) return notFound;
    const path = stripTrailingSlashes(pathname.slice(prefix.length));
    const upperMethod = method.toUpperCase() as HttpFunction["methods"][number];
    let allowed: string[] | undefined;
    for (const route of this.routes) {
      const found = route.pattern.exec(path);
      if (!found) continue;
      if (!route.fn.methods.includes(upperMethod)) {
        allowed ??= [];
        allowed.push(...route.fn.methods);
        continue;
      }
      const params: Record<string, string> = {};
      for (let index = 0; index < route.paramNames.length; index++) {
        const raw = found[index + 1];
        if (raw !== undefined) params[route.paramNames[index]!] = safeDecode(raw);
      }
      return { kind: "match", match: { fn: route.fn, params } };
    }
    return allowed ? { kind: "method_not_allowed", allowed: [...new Set(allowed)] } : notFound;
  }
}

const notFound: RouteLookup = { kind: "not_found" };

/** The path without trailing slashes; the usual path has none and is returned as it is, without a regular expression. */
function stripTrailingSlashes(path: string): string {
  return path.endsWith("/") ? path.replace(/\/+$/, "") : path;
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
