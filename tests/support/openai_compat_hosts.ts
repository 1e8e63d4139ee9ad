import OpenAI from "openai";
import { afterAll, beforeAll } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import type { LlmStandIn } from "./llm_stand_in.js";
import { TestIssuer } from "./test_issuer.js";
import { integrationConfig, integrationServices } from "./test_services.js";
import { startRateLimitedHost } from "./rate_limited_host.js";

/** A local host over real Redis and Azurite, on a free port of its own (port 0). */
export interface Served {
  readonly services: Services;
  readonly host: LocalHost;
}

/** The hosts the OpenAI-compatible routes are tried on, each configured for what it shows. */
export interface OpenAiCompatHosts {
  /** Ollama's OpenAI-compatible API played by the stand-in. */
  readonly withModel: Served;
  /** No language model: `/run` only. A small body limit for the 413 case. */
  readonly withoutModel: Served;
  /** AUTH_MODE=jwt against a token issuer on loopback. */
  readonly jwt: Served;
  /** One POST a minute. */
  readonly limited: Served;
  readonly issuer: TestIssuer;
  /** The audience the jwt host accepts. */
  readonly audience: string;
}

/**
 * The hosts of the test file that calls this at its top level (after useLlmStandIn, whose URL the
 * model host is given), started before its tests and closed after them. What this returns is
 * read in hooks and tests only, once they have started.
 */
export function useOpenAiCompatHosts(llm: LlmStandIn, audience: string): OpenAiCompatHosts {
  const hosts: { -readonly [K in keyof OpenAiCompatHosts]?: OpenAiCompatHosts[K] } = { audience };
  const serve = async (settings: Record<string, string>): Promise<Served> => {
    const services = integrationServices({ config: integrationConfig(settings) });
    return { services, host: await startLocalHost({ functions: httpFunctions, services, port: 0 }) };
  };
  beforeAll(async () => {
    hosts.issuer = await TestIssuer.start();
    hosts.withModel = await serve({ OLLAMA_BASE_URL: llm.url, OLLAMA_MODEL: "llama3.1", LLM_MAX_RETRIES: "0" });
    hosts.withoutModel = await serve({ MAX_BODY_BYTES: "4096" });
    hosts.jwt = await serve({ AUTH_MODE: "jwt", AUTH_JWT_ISSUER: hosts.issuer.issuer, AUTH_JWT_AUDIENCE: audience });
    hosts.limited = await startRateLimitedHost({ RATE_LIMIT_PER_MINUTE: "1" });
  });
  afterAll(async () => {
    for (const served of [hosts.withModel, hosts.withoutModel, hosts.jwt, hosts.limited]) {
      await served?.host.close();
      await served?.services.close();
    }
    await hosts.issuer?.stop();
  });
  return hosts as OpenAiCompatHosts;
}

/** The SDK pointed at a host, as a user would configure it: `baseURL` http://127.0.0.1:<port>/api/v1. */
export function openAiClient(served: Served, options: ConstructorParameters<typeof OpenAI>[0] = {}): OpenAI {
  return new OpenAI({ baseURL: `${served.host.url}/api/v1`, apiKey: "any-key-will-do", ...options });
}

/** What the SDK threw, for its class, status and fields. */
export async function sdkError(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof OpenAI.APIError) return error;
    throw error;
  }
  throw new Error("the call succeeded");
}
