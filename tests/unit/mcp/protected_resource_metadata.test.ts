import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config/config.js";
import { protectedResourceMetadata, resourceMetadataChallenge } from "../../../src/mcp/protected_resource_metadata.js";

const jwt = { AUTH_MODE: "jwt", AUTH_JWT_ISSUER: "https://login.microsoftonline.com/t/v2.0,https://sts.windows.net/t/", AUTH_JWT_AUDIENCE: "api://x" };

describe("the MCP endpoint's protected resource metadata (RFC 9728)", () => {
  it("names the endpoint by the public address, the issuers as authorization servers, header tokens, and the scopes when configured", () => {
    const config = loadConfig({ ...jwt, PUBLIC_BASE_URL: "https://api.example.com", AUTH_JWT_SCOPES: "api://x/user_impersonation" });
    expect(protectedResourceMetadata(config)).toEqual({
      resource: "https://api.example.com/api/mcp",
      authorization_servers: ["https://login.microsoftonline.com/t/v2.0", "https://sts.windows.net/t/"],
      bearer_methods_supported: ["header"],
      scopes_supported: ["api://x/user_impersonation"],
      resource_name: expect.any(String),
    });
    expect(resourceMetadataChallenge(config)).toBe('resource_metadata="https://api.example.com/api/.well-known/oauth-protected-resource/mcp"');
  });

  it("leaves scopes_supported out when no scope is configured", () => {
    expect(protectedResourceMetadata(loadConfig(jwt))).not.toHaveProperty("scopes_supported");
  });

  it("is not published, nor named in a challenge, when the app checks no tokens itself", () => {
    for (const environment of [{}, { AUTH_MODE: "easyauth", WEBSITE_AUTH_ENABLED: "True" }]) {
      expect(protectedResourceMetadata(loadConfig(environment))).toBeUndefined();
      expect(resourceMetadataChallenge(loadConfig(environment))).toBeUndefined();
    }
  });
});
