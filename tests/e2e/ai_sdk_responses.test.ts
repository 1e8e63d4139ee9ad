import { createOpenAI } from "@ai-sdk/openai";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpFunctions } from "../../functions/index.js";
import { startLocalHost, type LocalHost } from "../../src/host/local_host.js";
import type { Services } from "../../src/services.js";
import { integrationConfig, integrationServices } from "../support/test_services.js";

/**
 * The Vercel AI SDK (`ai` with `@ai-sdk/openai`), unmodified, against the local host over real
 * HTTP: `provider("codexcontinue")` is its Responses API model, so it calls `/api/v1/responses`,
 * validates every answer and every streamed event against its own schemas of OpenAI's, and reports
 * an event it cannot read through `onError`.
 */
let services: Services;
let host: LocalHost;

beforeAll(async () => {
  services = integrationServices({ config: integrationConfig({}) });
  host = await startLocalHost({ functions: httpFunctions, services, port: 0 });
});

afterAll(async () => {
  await host?.close();
  await services?.close();
});

/** As docs/clients.md configures it: the base URL, any key with AUTH_MODE=none, and no stored responses. */
const provider = () => createOpenAI({ baseURL: `${host.url}/api/v1`, apiKey: "local" });
const notStored = { openai: { store: false } };

describe("the AI SDK's OpenAI provider on /api/v1", () => {
  it("generateText gets the /run echo text", async () => {
    const result = await generateText({
      model: provider()("codexcontinue"),
      prompt: "/run echo hello from the AI SDK",
      providerOptions: notStored,
      maxRetries: 0,
    });
    expect(result.text).toBe("hello from the AI SDK");
    expect(result.finishReason).toBe("stop");
    expect(result.response.id).toMatch(/^resp_/);
    expect(result.warnings).toEqual([]);
  });

  it("streamText gets it in the text stream, and its onError is never called", async () => {
    const errors: unknown[] = [];
    const result = streamText({
      model: provider()("codexcontinue"),
      prompt: "/run echo streamed to the AI SDK",
      providerOptions: notStored,
      maxRetries: 0,
      onError: ({ error }) => void errors.push(error),
    });
    let text = "";
    for await (const piece of result.textStream) text += piece;
    expect(text).toBe("streamed to the AI SDK");
    expect(await result.text).toBe("streamed to the AI SDK");
    expect(await result.finishReason).toBe("stop");
    expect(errors).toEqual([]);
  });

  it("keeps a conversation with a system prompt and an earlier answer (its items sent whole with store: false)", async () => {
    const result = await generateText({
      model: provider()("codexcontinue"),
      system: "Be brief.",
      messages: [
        { role: "user", content: "/run echo first" },
        { role: "assistant", content: "first" },
        { role: "user", content: "/run echo second" },
      ],
      providerOptions: notStored,
      maxRetries: 0,
    });
    expect(result.text).toBe("second");
  });

  it("reports the server's refusal as an error: a client's own tools", async () => {
    await expect(
      generateText({
        model: provider()("codexcontinue"),
        prompt: "/run echo x",
        tools: { weather: tool({ description: "the weather", inputSchema: jsonSchema({ type: "object", properties: {} }) }) },
        providerOptions: notStored,
        maxRetries: 0,
      }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});
