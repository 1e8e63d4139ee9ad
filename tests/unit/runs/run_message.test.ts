import { describe, expect, it } from "vitest";
import { decodeBase64Utf8, encodeRunMessage, isRunId, maxQueueMessageChars, parseRunMessage, runLocation } from "../../../src/runs/run_message.js";

const messageId = "3f2c9a1e-8b7d-4c6e-9f0a-1b2c3d4e5f60";

describe("parseRunMessage", () => {
  it("accepts an object as the worker hands over parsed JSON", () => {
    expect(parseRunMessage({ runId: "r-1", plugin: "echo", data: { text: "hi" }, sessionId: "s_1" }, messageId)).toEqual({
      ok: true,
      message: { runId: "r-1", plugin: "echo", data: { text: "hi" }, sessionId: "s_1" },
    });
  });

  it("reads JSON text and a Buffer as well", () => {
    const json = JSON.stringify({ runId: "r-2", plugin: "echo", data: { text: "x" } });
    expect(parseRunMessage(json, messageId)).toMatchObject({ ok: true, message: { runId: "r-2", plugin: "echo" } });
    expect(parseRunMessage(Buffer.from(json), messageId)).toMatchObject({ ok: true, message: { runId: "r-2" } });
  });

  it("runs a message without a run id under its queue message id, the same on every delivery", () => {
    const first = parseRunMessage({ plugin: "echo", data: { text: "x" } }, messageId);
    const again = parseRunMessage({ plugin: "echo", data: { text: "x" } }, messageId);
    expect(first).toMatchObject({ ok: true, message: { runId: messageId } });
    expect(again).toEqual(first);
  });

  it("makes up a run id when there is neither a run id nor a usable message id", () => {
    const parsed = parseRunMessage({ plugin: "echo" }, undefined);
    expect(parsed.ok && isRunId(parsed.message.runId)).toBe(true);
  });

  it("defaults data to an empty object and leaves the session unset", () => {
    expect(parseRunMessage({ plugin: "echo" }, messageId)).toEqual({ ok: true, message: { runId: messageId, plugin: "echo", data: {}, sessionId: undefined } });
  });

  it.each<[string, unknown]>([
    ["text that is not JSON", "run echo please"],
    ["an empty message", ""],
    ["a JSON string", '"echo"'],
    ["a number", 42],
    ["an array", [{ plugin: "echo" }]],
    ["null", null],
  ])("rejects %s, keeping its text", (_label, entry) => {
    const parsed = parseRunMessage(entry, messageId);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.rejected.runId).toBeUndefined();
    expect(parsed.rejected.text).toBe(typeof entry === "string" ? entry : JSON.stringify(entry));
  });

  it("reads base64 of JSON text (what the app sends) the same as the plain JSON, as text or as a Buffer", () => {
    const message = { runId: "r-b64", plugin: "echo", data: { text: "grüße 👋" }, sessionId: "s" };
    const encoded = Buffer.from(JSON.stringify(message), "utf8").toString("base64");
    expect(parseRunMessage(encoded, messageId)).toEqual({ ok: true, message });
    expect(parseRunMessage(Buffer.from(encoded), messageId)).toEqual({ ok: true, message });
    expect(parseRunMessage(encodeRunMessage(message), messageId)).toEqual(parseRunMessage(JSON.stringify(message), messageId));
    // Blanks around either encoding, as a hand-typed message may have.
    expect(parseRunMessage(`  ${JSON.stringify(message)}\n`, messageId)).toEqual({ ok: true, message });
    expect(parseRunMessage(`${encoded}\n`, messageId)).toEqual({ ok: true, message });
  });

  it("records a base64 message that fails validation with its decoded text and its run id", () => {
    const encoded = Buffer.from(JSON.stringify({ runId: "r-bad", plugin: 7 }), "utf8").toString("base64");
    const parsed = parseRunMessage(encoded, messageId);
    expect(parsed).toMatchObject({ ok: false, rejected: { runId: "r-bad", issues: [{ path: "plugin" }] } });
    expect(!parsed.ok && JSON.parse(parsed.rejected.text)).toEqual({ runId: "r-bad", plugin: 7 });
  });

  it.each<[string, string]>([
    // JSON, but no object; each is also 4n characters of the base64 alphabet, and decodes to bytes that are no JSON object.
    ["true", "true"],
    ["a number that is valid base64", "1234"],
    ["null", "null"],
    ["base64 of a JSON array", Buffer.from("[1]").toString("base64")],
    ["base64 of a JSON number", Buffer.from("42").toString("base64")],
    ["base64 of text that is no JSON", Buffer.from("run echo").toString("base64")],
    ["base64 of bytes that are no UTF-8", Buffer.from([0xff, 0xfe, 0x7b, 0x7d]).toString("base64")],
    ["base64 of JSON, cut short", Buffer.from('{"plugin":"echo"}').toString("base64").slice(0, 12)],
  ])("rejects %s, keeping its text", (_label, entry) => {
    const parsed = parseRunMessage(entry, messageId);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.rejected.text).toBe(entry);
  });

  it("says when the message is neither JSON nor base64 JSON, and when it is JSON but no object", () => {
    expect(parseRunMessage("not json", messageId)).toMatchObject({ ok: false, rejected: { problem: "the message is neither JSON nor base64-encoded JSON" } });
    expect(parseRunMessage("1234", messageId)).toMatchObject({ ok: false, rejected: { problem: "the message is not a JSON object" } });
    expect(parseRunMessage("[1]", messageId)).toMatchObject({ ok: false, rejected: { problem: "the message is not a JSON object" } });
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["a missing plugin", { runId: "r-3", data: {} }, "plugin"],
    ["a plugin that is not a string", { runId: "r-3", plugin: 7 }, "plugin"],
    ["an empty plugin", { runId: "r-3", plugin: "" }, "plugin"],
    ["an invalid session id", { runId: "r-3", plugin: "echo", sessionId: "has spaces" }, "sessionId"],
    ["an unknown field", { runId: "r-3", plugin: "echo", sesionId: "typo" }, ""],
  ])("rejects %s, naming the field and keeping a usable run id", (_label, entry, path) => {
    const parsed = parseRunMessage(entry, messageId);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.rejected.runId).toBe("r-3");
    expect(parsed.rejected.issues.map((i) => i.path)).toContain(path);
    expect(JSON.parse(parsed.rejected.text)).toEqual(entry);
  });

  it("rejects an invalid run id and does not offer it for the record", () => {
    const parsed = parseRunMessage({ runId: "no spaces allowed", plugin: "echo" }, messageId);
    expect(parsed).toMatchObject({ ok: false, rejected: { runId: undefined, plugin: "echo", issues: [{ path: "runId" }] } });
    expect(parseRunMessage({ runId: "x".repeat(129), plugin: "echo" }, messageId).ok).toBe(false);
  });
});

describe("encodeRunMessage", () => {
  it("is base64 of the JSON, which parses back to the same run", () => {
    const message = { runId: "r-9", plugin: "calculator", data: { expression: "2+3*4" }, sessionId: "s" };
    const text = encodeRunMessage(message);
    expect(text).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const decoded = JSON.parse(Buffer.from(text, "base64").toString("utf8"));
    expect(decoded).toEqual(message);
    expect(parseRunMessage(decoded, messageId)).toEqual({ ok: true, message });
  });

  it("keeps text outside ASCII intact", () => {
    const message = { runId: "r-10", plugin: "echo", data: { text: "grüße 👋" } };
    expect(JSON.parse(Buffer.from(encodeRunMessage(message), "base64").toString("utf8"))).toEqual(message);
  });

  it("makes 48 KiB of JSON the most that fits in a 64 KiB queue message", () => {
    const fits = encodeRunMessage({ plugin: "echo", data: { text: "x".repeat(48 * 1024 - 40) } });
    const tooBig = encodeRunMessage({ plugin: "echo", data: { text: "x".repeat(48 * 1024) } });
    expect(fits.length).toBeLessThanOrEqual(maxQueueMessageChars);
    expect(tooBig.length).toBeGreaterThan(maxQueueMessageChars);
  });
});

describe("decodeBase64Utf8", () => {
  it("decodes strict base64 of UTF-8 and refuses anything else", () => {
    expect(decodeBase64Utf8(Buffer.from("héllo {}").toString("base64"))).toBe("héllo {}");
    expect(decodeBase64Utf8("")).toBeUndefined();
    expect(decodeBase64Utf8("not base64")).toBeUndefined();
    expect(decodeBase64Utf8("abc")).toBeUndefined();
    expect(decodeBase64Utf8("{}==")).toBeUndefined();
    expect(decodeBase64Utf8(Buffer.from([0xc3, 0x28]).toString("base64"))).toBeUndefined();
  });
});

describe("run ids", () => {
  it("follow the session-id alphabet and length", () => {
    expect(["a", "A-b_9", "x".repeat(128)].every(isRunId)).toBe(true);
    expect(["", "x".repeat(129), "a b", "a/b", "a.b", 7, undefined].some(isRunId)).toBe(false);
  });

  it("have their status at /api/runs/{runId}", () => {
    expect(runLocation("r-1")).toBe("/api/runs/r-1");
  });
});
