import { AppError } from "../src/errors/app_error.js";
import { jsonResponse } from "../src/http/api_response.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";
import { protectedResourceMetadata, protectedResourceMetadataSchema } from "../src/mcp/protected_resource_metadata.js";

/**
 * The MCP endpoint's OAuth 2.0 Protected Resource Metadata (RFC 9728), which its 401 names:
 * public, as a client reads it before it has a token. Only in AUTH_MODE=jwt (with easyauth App
 * Service Authentication serves its own).
 */
export const mcpResourceMetadata = definePublicHttpFunction({
  operationId: "mcpResourceMetadata",
  summary: "The MCP endpoint's OAuth 2.0 Protected Resource Metadata (RFC 9728), named by its 401s in `jwt` mode",
  responses: {
    200: {
      description:
        "`resource` (the MCP endpoint's URL, from `PUBLIC_BASE_URL`), `authorization_servers` (`AUTH_JWT_ISSUER`), `bearer_methods_supported`, `scopes_supported` (`AUTH_JWT_SCOPES`).",
      body: protectedResourceMetadataSchema,
    },
  },
  errors: ["not_found"],
  handler: async (_request, { services }) => {
    const metadata = protectedResourceMetadata(services.config);
    if (!metadata) throw new AppError("not_found", "the app checks no bearer tokens itself (AUTH_MODE is not jwt): it publishes no resource metadata");
    return jsonResponse(200, metadata, { "cache-control": "public, max-age=3600" });
  },
});
