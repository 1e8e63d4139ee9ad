import { z } from "zod";
import type { AppConfig } from "../config/config.js";
import { mcpResourceMetadataRoute, mcpRoute } from "./mcp_routes.js";

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) of the MCP endpoint, in AUTH_MODE=jwt: how an
 * MCP client that was answered 401 finds the issuer to sign its user in with. Every URL is built
 * from the configured public address (PUBLIC_BASE_URL), never from a request's Host header, which
 * a caller chooses.
 */
export const protectedResourceMetadataSchema = z.object({
  resource: z.string(),
  authorization_servers: z.array(z.string()),
  bearer_methods_supported: z.array(z.literal("header")),
  scopes_supported: z.array(z.string()).optional(),
  resource_name: z.string(),
});

export type ProtectedResourceMetadata = z.infer<typeof protectedResourceMetadataSchema>;

/** The MCP endpoint's URL: the resource a token is requested for. */
function mcpResourceUrl(config: AppConfig): string {
  return `${config.http.publicBaseUrl}/api/${mcpRoute}`;
}

function resourceMetadataUrl(config: AppConfig): string {
  return `${config.http.publicBaseUrl}/api/${mcpResourceMetadataRoute}`;
}

/** The document; undefined unless the app itself checks bearer tokens (with easyauth, App Service serves its own). */
export function protectedResourceMetadata(config: AppConfig): ProtectedResourceMetadata | undefined {
  const auth = config.auth;
  if (auth.mode !== "jwt") return undefined;
  const scopes = auth.scopes ?? [];
  return {
    resource: mcpResourceUrl(config),
    authorization_servers: [...auth.issuers],
    bearer_methods_supported: ["header"],
    ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
    resource_name: "CodexContinue Functions MCP server",
  };
}

/** What the MCP endpoint's 401 adds to its Bearer challenge in jwt mode: where the metadata is. */
export function resourceMetadataChallenge(config: AppConfig): string | undefined {
  return config.auth.mode === "jwt" ? `resource_metadata="${resourceMetadataUrl(config)}"` : undefined;
}
