import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { mcpServerInstructions, mcpServerName } from "../../../src/mcp/mcp_server_info.js";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (file: string) => JSON.parse(readFileSync(join(root, file), "utf8"));

describe("host.json's extensions.mcp", () => {
  it("names the MCP server as the local host names it, and lets callers reach the tools without the extension's system key, to be authenticated per call", () => {
    expect(read("host.json").extensions.mcp).toEqual({
      serverName: mcpServerName,
      serverVersion: read("package.json").version,
      instructions: mcpServerInstructions,
      system: { webhookAuthorizationLevel: "Anonymous" },
    });
  });

  it("is served by an extension bundle of major version 4, which carries the MCP extension", () => {
    expect(read("host.json").extensionBundle).toEqual({ id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" });
  });
});
