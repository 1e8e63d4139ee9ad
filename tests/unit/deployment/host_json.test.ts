import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const hostJson = JSON.parse(readFileSync(join(root, "host.json"), "utf8"));

describe("host.json", () => {
  it("configures no Functions MCP extension: MCP is the HTTP function /api/mcp, served by the app", () => {
    expect(Object.keys(hostJson.extensions).sort()).toEqual(["http", "queues"]);
    expect(hostJson.extensions.http.routePrefix).toBe("api");
  });
});
