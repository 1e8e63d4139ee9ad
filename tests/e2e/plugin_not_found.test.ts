import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJwtHost, type JwtHost } from "../support/jwt_host.js";

/**
 * `plugin_not_found` over real HTTP with AUTH_MODE=jwt: the plugins it lists are those
 * `GET /api/plugins` lists for the same caller on the same channel, so that a caller without the
 * admin role never learns of the shell plugin from a mistyped name.
 */
type Who = "alice" | "admin";
let app: JwtHost<Who>;

beforeAll(async () => {
  app = await startJwtHost({ alice: [], admin: ["admin"] }, { SHELL_PLUGIN_ALLOWED_COMMANDS: "echo" });
});

afterAll(async () => {
  await app?.close();
});

const post = (who: Who, path: string, body: unknown) => app.call(who, "POST", path, { body });

/** What GET /api/plugins lists for this caller on this channel. */
async function listed(who: Who, channel: string): Promise<string[]> {
  const answer = await app.call(who, "GET", "/api/plugins");
  expect(answer.status).toBe(200);
  return answer.body.plugins.filter((p: { channels: string[] }) => p.channels.includes(channel)).map((p: { name: string }) => p.name);
}

describe("plugin_not_found names only what the caller may run there", () => {
  it.each([
    ["execute", "execute", (who: Who) => post(who, "/api/plugins/execute", { plugin: "nosuchplugin", data: {} })],
    ["an asynchronous execute", "execute", (who: Who) => post(who, "/api/plugins/execute", { plugin: "nosuchplugin", data: {}, async: true })],
    ["chat /run", "chat", (who: Who) => post(who, "/api/chat", { message: "/run nosuchplugin x" })],
  ] as const)("on %s: a caller without the admin role never sees shell; an admin does", async (_name, channel, ask) => {
    const alice = await ask("alice");
    expect(alice.status).toBe(404);
    expect(alice.body.error.code).toBe("plugin_not_found");
    expect(alice.text).not.toContain("shell");
    expect([...alice.body.error.details.available].sort()).toEqual((await listed("alice", channel)).sort());

    const admin = await ask("admin");
    expect(admin.status).toBe(404);
    expect(admin.body.error.details.available).toContain("shell");
    expect([...admin.body.error.details.available].sort()).toEqual((await listed("admin", channel)).sort());
  });
});
