import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiAnswer } from "../support/api_client.js";
import { startJwtHost, type JwtHost } from "../support/jwt_host.js";
import { reply, useLlmStandIn } from "../support/llm_stand_in.js";

/**
 * One principal's share of a plugin's concurrency, over real HTTP with AUTH_MODE=jwt: alice's long
 * runs of the agent (held at the model) take her share of PLUGIN_MAX_CONCURRENCY and no more, and
 * bob's run of the same plugin starts at once.
 */
const llm = useLlmStandIn();
let app: JwtHost<"alice" | "bob">;

beforeAll(async () => {
  app = await startJwtHost(
    { alice: [], bob: [] },
    // The share per principal is left to its default, half of this.
    { OLLAMA_BASE_URL: llm.url, LLM_MAX_RETRIES: "0", PLUGIN_MAX_CONCURRENCY: "4" },
  );
});

afterAll(async () => {
  await app?.close();
});

function chat(who: "alice" | "bob", message: string, timeoutMs: number): Promise<ApiAnswer & { ms: number }> {
  const started = performance.now();
  return app.call(who, "POST", "/api/chat", { body: { message }, signal: AbortSignal.timeout(timeoutMs) }).then((answer) => ({
    ...answer,
    ms: performance.now() - started,
  }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("a principal's share of a plugin's concurrency", () => {
  it("holds one principal's long runs of the agent to its share, and another principal's run of it starts at once", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    llm.answerEveryRequestWith(async (request) => {
      if (request.lastUserMessage === "hold") {
        held++;
        await gate;
      }
      return reply.text(`done: ${request.lastUserMessage}`);
    });

    const alice = Array.from({ length: 4 }, () => chat("alice", "/run agent hold", 20_000));
    try {
      await llm.waitForRequests(2);
      // Time for any run past her share to reach the model too, if it could.
      await sleep(300);
      const bob = await chat("bob", "/run agent quick", 5000);
      expect(bob.status).toBe(200);
      expect(bob.body).toMatchObject({ plugin: "agent", reply: "done: quick" });
      expect(bob.ms).toBeLessThan(2000);
      expect(held).toBe(2);
    } finally {
      release();
    }
    // Her runs past the share waited their turn and then ran.
    const answers = await Promise.all(alice);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(held).toBe(4);
  });
});
