import type { AuthConfig } from "../config/config.js";
import type { Caller } from "./caller.js";
import { localCaller } from "./caller.js";
import { EasyAuthAuthenticator } from "./easyauth_authenticator.js";
import { JwtAuthenticator, type JwtAuthenticatorOptions } from "./jwt_authenticator.js";

/** The part of a request an authenticator reads: met by @azure/functions' HttpRequest headers and by Fetch's Headers. */
export interface RequestHeaders {
  get(name: string): string | null;
}

/** Resolves who calls, once per request, before any handler work; throws AppError("unauthorized") when it cannot. */
export interface Authenticator {
  readonly mode: AuthConfig["mode"];
  authenticate(headers: RequestHeaders): Promise<Caller>;
}

export function createAuthenticator(config: AuthConfig, options: JwtAuthenticatorOptions = {}): Authenticator {
  switch (config.mode) {
    case "none":
      return { mode: "none", authenticate: async () => localCaller };
    case "jwt":
      return new JwtAuthenticator(config, options);
    case "easyauth":
      return new EasyAuthAuthenticator();
  }
}
