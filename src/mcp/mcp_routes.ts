/**
 * Where the MCP endpoint and its OAuth metadata are reached, below the `api` route prefix:
 * functions/registrations.ts registers them there, and the metadata names the endpoint by it.
 * Nothing else here: the Functions entry loads this module at start.
 */
export const mcpRoute = "mcp";

/** RFC 9728's well-known name of a resource's metadata, put below the route prefix (the only paths the app serves). */
export const mcpResourceMetadataRoute = ".well-known/oauth-protected-resource/mcp";
