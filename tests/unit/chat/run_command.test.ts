import { describe, it, expect } from "vitest";
import { parseRunCommand, replyText } from "../../../src/chat/run_command.js";
import type { AnyPlugin } from "../../../src/plugins/plugin.js";
import { CalculatorPlugin } from "../../../plugins/calculator_plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";
import { appErrorOf } from "../../support/failure_of.js";
import { jsonOnlyPlugin } from "../../support/json_only_plugin.js";
import { pluginEnvironment } from "../../support/plugin_context.js";

const echo = new EchoPlugin(pluginEnvironment());
const calculator = new CalculatorPlugin(pluginEnvironment());

const jsonOnly = jsonOnlyPlugin;

describe("parseRunCommand", () => {
  it("splits the plugin name from its input", () => {
    expect(parseRunCommand("/run echo hello")).toEqual({ plugin: "echo", inputText: "hello" });
    expect(parseRunCommand("/run calculator 2 + 3 * 4")).toEqual({ plugin: "calculator", inputText: "2 + 3 * 4" });
  });

  it("keeps inner line breaks and spaces but trims the ends", () => {
    expect(parseRunCommand("  /run   echo    first  line\n  second line  \n")).toEqual({
      plugin: "echo",
      inputText: "first  line\n  second line",
    });
    expect(parseRunCommand("/run echo\nnext line")).toEqual({ plugin: "echo", inputText: "next line" });
  });

  it("allows a plugin with no input", () => {
    expect(parseRunCommand("/run memory")).toEqual({ plugin: "memory", inputText: "" });
    expect(parseRunCommand("/run\tmemory  ")).toEqual({ plugin: "memory", inputText: "" });
  });

  it.each(["/run", "/run   ", "  /run \n "])("rejects %j without a plugin as invalid_request", (message) => {
    const error = appErrorOf(() => parseRunCommand(message));
    expect(error.code).toBe("invalid_request");
    expect(error.message).toContain("/run <plugin>");
  });

  it.each(["/running x", "hello /run echo x", "run echo", "", "/ run echo x", "/runecho x"])("is not a command: %j", (message) => {
    expect(parseRunCommand(message)).toBeUndefined();
  });
});

describe("replyText", () => {
  it("shows a string result as it is", () => {
    expect(replyText(echo, "line 1\nline 2")).toBe("line 1\nline 2");
    expect(replyText(jsonOnly, "plain")).toBe("plain");
  });

  it("shows other results as indented JSON", () => {
    expect(replyText(jsonOnly, { doubled: 6 })).toBe('{\n  "doubled": 6\n}');
    expect(JSON.parse(replyText(jsonOnly, [1, 2]))).toEqual([1, 2]);
    expect(replyText(jsonOnly, 14)).toBe("14");
  });

  it("uses the plugin's formatReply when it has one", () => {
    const formatted: AnyPlugin = { ...jsonOnly, formatReply: (r: { doubled: number }) => `twice is ${r.doubled}` };
    expect(replyText(formatted, { doubled: 6 })).toBe("twice is 6");
    expect(replyText(calculator, 14)).toBe("14");
  });
});
