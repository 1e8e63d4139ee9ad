/**
 * The MCP SDK floor: a 2026-07-28 tools/call of echo answered by the official SDK's
 * createMcpHandler with the least a server can be (bench/mcp_sdk_floor.ts), behind the local
 * host's adapter steps (./adapter_floor.ts) and the app's own glue to the SDK's web-standard face
 * (src/mcp/fetch_exchange.ts), with nothing of the app (no authentication, rate limit, policy or
 * plugin runner). An MCP tools/call through the local host does all of this and what (a) execute
 * echo does, so this server's CPU per request less the adapter floor's is the least MCP adds to
 * (a) (bench/mcp_against_echo.ts, the TARGET line of `npm run bench`).
 */
import { toFetchExchange, toHttpResponse } from "../../src/mcp/fetch_exchange.js";
import { createSdkFloorHandler } from "../mcp_sdk_floor.js";
import { maxBodyBytes, serveBehindAdapter } from "./adapter_floor.js";

const handler = createSdkFloorHandler();

serveBehindAdapter("mcp-sdk-floor", async (request) => {
  const { request: webRequest, parsedBody } = await toFetchExchange(request, maxBodyBytes);
  return toHttpResponse(await handler.fetch(webRequest, parsedBody === undefined ? {} : { parsedBody }));
});
