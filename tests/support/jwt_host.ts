import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { PluginClass } from "../../src/plugins/plugin.js";
import type { Services } from "../../src/services.js";
import { callApi, type ApiAnswer, type ApiCallOptions } from "./api_client.js";
import { TestIssuer } from "./test_issuer.js";
import { integrationConfig, integrationServices } from "./test_services.js";

export interface JwtHost<Principal extends string> {
  readonly host: LocalHost;
  readonly services: Services;
  /** One request as `who`, over real HTTP, with its bearer token. */
  call(who: Principal, method: string, path: string, options?: Omit<ApiCallOptions, "token">): Promise<ApiAnswer>;
  /** The bearer token of `who`, for clients that send it themselves. */
  token(who: Principal): string;
  close(): Promise<void>;
}

/**
 * The local host with AUTH_MODE=jwt over real HTTP, trusting an issuer of its own on loopback,
 * against the run's real Redis and Azurite, with a token for each principal (its `oid`, with the
 * given app roles).
 */
export async function startJwtHost<Principal extends string>(
  principals: Record<Principal, readonly string[]>,
  settings: Record<string, string> = {},
  options: { plugins?: readonly PluginClass[] } = {},
): Promise<JwtHost<Principal>> {
  const issuer = await TestIssuer.start();
  const audience = "api://codex-test";
  const config = integrationConfig({ AUTH_MODE: "jwt", AUTH_JWT_ISSUER: issuer.issuer, AUTH_JWT_AUDIENCE: audience, ...settings });
  const services = integrationServices({ config, plugins: options.plugins });
  const host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
  const tokens = new Map<string, string>();
  for (const [who, roles] of Object.entries(principals) as [Principal, readonly string[]][]) {
    tokens.set(who, await issuer.token(`${who}-oid`, audience, roles.length > 0 ? { claims: { roles: [...roles] } } : {}));
  }
  return {
    host,
    services,
    call: (who, method, path, options = {}) => callApi(host.url, method, path, { ...options, token: tokens.get(who) }),
    token: (who) => tokens.get(who)!,
    close: async () => {
      await host.close();
      await services.close();
      await issuer.stop();
    },
  };
}
