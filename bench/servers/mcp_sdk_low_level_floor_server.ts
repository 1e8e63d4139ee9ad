/**
 * The MCP SDK floor (./mcp_sdk_floor_server.ts) with the SDK's low-level Server in place of
 * McpServer (bench/mcp_sdk_floor.ts): what the SDK's exchange costs at the least, served, when the
 * factory hands createMcpHandler a Server with one tools/call handler.
 */
import { toFetchExchange, toHttpResponse } from "../../src/mcp/fetch_exchange.js";
import { createLowLevelSdkFloorHandler } from "../mcp_sdk_floor.js";
import { maxBodyBytes, serveBehindAdapter } from "./adapter_floor.js";

const handler = createLowLevelSdkFloorHandler();

serveBehindAdapter("mcp-sdk-low-level-floor", async (request) => {
  const { request: webRequest, parsedBody } = await toFetchExchange(request, maxBodyBytes);
  return toHttpResponse(await handler.fetch(webRequest, parsedBody === undefined ? {} : { parsedBody }));
});
