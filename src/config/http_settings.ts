import * as z from "zod/mini";
import { websiteInstanceId } from "./azure_settings.js";
import { commaList, isOrigin, oneOf, settingDocs, textWhere, wholeNumber } from "./setting.js";

const listenAddressPattern = /^[0-9a-fA-F.:]+$|^localhost$/;

/** Where the local host listens (the Functions host chooses its own). */
export const port = z._default(wholeNumber(0, 65535), 7071).register(settingDocs, {
  azure: "not used (the host listens itself)",
  description: "port of the local host (`func start` takes `--port`)",
});

const listenAddress = z.string().check(z.regex(listenAddressPattern, "must be an IP address to listen on, such as 127.0.0.1 or 0.0.0.0"));

export const host = z._default(listenAddress, "127.0.0.1").register(settingDocs, {
  local: "`127.0.0.1`; `0.0.0.0` in a container",
  azure: "not used",
  description: "address the local host listens on (`0.0.0.0` in a container)",
});

/** A HOST that passed its own rule (refinements run on one that failed it too). */
export const isListenAddress = (value: string) => listenAddressPattern.test(value);

/** Addresses that only this machine can reach. */
export function isLoopback(address: string): boolean {
  const name = address.toLowerCase().replace(/^\[|\]$/g, "");
  return name === "localhost" || name.endsWith(".localhost") || name === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

const httpEnvironment = z.object({
  PORT: port,
  HOST: host,
  PUBLIC_BASE_URL: z.optional(textWhere(isOrigin, "must be scheme://host[:port] with no path, such as https://api.example.com")).register(settingDocs, {
    default: "`https://$WEBSITE_HOSTNAME` in Azure, else `http://HOST:PORT`",
    azure: "unset, or the custom domain",
    description:
      "the app's address as clients use it (`scheme://host[:port]`): the MCP endpoint's resource identifier in its OAuth metadata, never taken from a request's `Host`",
  }),
  WEBSITE_HOSTNAME: z.optional(textWhere((v) => /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(v), "must be a host name")).register(settingDocs, {
    azure: "set by the platform",
    description: "the site's default host name, the public address unless `PUBLIC_BASE_URL` says otherwise",
  }),
  WEBSITE_INSTANCE_ID: websiteInstanceId,
  MAX_BODY_BYTES: z._default(wholeNumber(1024, 100 * 1024 * 1024), 1024 * 1024).register(settingDocs, {
    description: "largest accepted request body; larger gets 413 `payload_too_large`",
  }),
  REQUEST_TIMEOUT_MS: z._default(wholeNumber(1000, 10 * 60 * 1000), 30_000).register(settingDocs, {
    azure: "not used (the platform has its own limits)",
    description: "the local host cuts a request whose headers and body have not arrived within this, with 408 `request_timeout` (at least 1000)",
  }),
  // Bounded so that a stop always ends: a platform that sends SIGTERM follows with SIGKILL after its own wait.
  SHUTDOWN_GRACE_MS: z._default(wholeNumber(0, 120_000), 10_000).register(settingDocs, {
    azure: "not used (the Functions host stops itself)",
    description:
      "on SIGTERM/SIGINT the local host stops accepting connections, answers further requests on open connections with `Connection: close`, and lets requests in flight finish for this long (0 to 120000); requests still running then are cut and the process exits 1 saying how many",
  }),
  HTTP_AUTH_LEVEL: z._default(oneOf(["anonymous", "function"]), "anonymous").register(settingDocs, {
    azure: "`anonymous` (parameter `httpAuthLevel`)",
    description: "`authLevel` of the HTTP functions; `function` asks for a function key as well (health stays anonymous)",
  }),
  // On Azure Functions the platform writes the site's CORS list here as a JSON array; locally it is a comma-separated list.
  CORS_ALLOWED_ORIGINS: commaList(isOrigin, "each origin must be scheme://host[:port] with no path, such as https://chat.example.com", {
    jsonArray: true,
  }).register(settingDocs, {
    default: "unset: only the app's own origin",
    azure: "not set: on Flex Consumption the platform fills it, as a JSON array, from the site's CORS list (parameter `corsAllowedOrigins`)",
    description:
      "comma-separated origins (`https://chat.example.com`), or a JSON array of them, whose pages may call the API; any other `Origin` gets 403 `origin_not_allowed`",
  }),
  ALLOWED_HOSTS: commaList((v) => /^[A-Za-z0-9.-]{1,253}$/.test(v), "each host must be a host name such as api.example.com (no port)").register(settingDocs, {
    default: "unset: loopback names and `HOST`",
    azure: "not used",
    description: "comma-separated host names the local host answers to besides loopback names and `HOST`; any other `Host` gets 403 `host_not_allowed`",
  }),
});

/** The HTTP API: request limits, which browsers and hosts it answers, its public address. */
export const httpSettings = z.pipe(
  httpEnvironment,
  z.transform((env) => ({
    maxBodyBytes: env.MAX_BODY_BYTES,
    /** The local host cuts a request whose headers and body have not arrived within this (408). */
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    /** On SIGTERM/SIGINT the local host lets requests in flight finish for this long before it cuts them. */
    shutdownGraceMs: env.SHUTDOWN_GRACE_MS,
    /** Origins other than the app's own whose browser pages may call the API (CORS). */
    corsAllowedOrigins: env.CORS_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
    /** Host names the local host answers to besides loopback names and HOST (DNS rebinding). */
    allowedHosts: env.ALLOWED_HOSTS.map((name) => name.toLowerCase()),
    /** authLevel of the HTTP registrations in the Functions host; `function` asks for a function key too. */
    authLevel: env.HTTP_AUTH_LEVEL,
    /** The app's address as its clients use it (`scheme://host[:port]`): what the MCP endpoint's OAuth metadata names it by. */
    publicBaseUrl: publicBaseUrlOf(env),
  })),
);

/** PUBLIC_BASE_URL; else https://WEBSITE_HOSTNAME in Azure; else the local host's own address, http://HOST:PORT. */
function publicBaseUrlOf(env: z.output<typeof httpEnvironment>): string {
  if (env.PUBLIC_BASE_URL) return new URL(env.PUBLIC_BASE_URL).origin;
  // Azure Functions Core Tools sets WEBSITE_HOSTNAME too (localhost:<port>, plain HTTP): only an instance in Azure is https.
  if (env.WEBSITE_INSTANCE_ID && env.WEBSITE_HOSTNAME) return `https://${env.WEBSITE_HOSTNAME.toLowerCase()}`;
  const address = ["0.0.0.0", "::"].includes(env.HOST) ? "127.0.0.1" : env.HOST;
  return `http://${address.includes(":") ? `[${address}]` : address}:${env.PORT}`;
}
