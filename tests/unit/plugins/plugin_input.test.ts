import { describe, it, expect } from "vitest";
import { inputFromText } from "../../../src/plugins/plugin_input.js";
import { CalculatorPlugin } from "../../../plugins/calculator_plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";
import { appErrorOf } from "../../support/failure_of.js";
import { jsonOnlyPlugin } from "../../support/json_only_plugin.js";
import { pluginEnvironment } from "../../support/plugin_context.js";

const echo = new EchoPlugin(pluginEnvironment());
const calculator = new CalculatorPlugin(pluginEnvironment());

const jsonOnly = jsonOnlyPlugin;

describe("inputFromText", () => {
  it("parses text that is a JSON object as it is", () => {
    expect(inputFromText(echo, '{"text":"raw"}')).toEqual({ text: "raw" });
    expect(inputFromText(calculator, '{"expression":"1+1","extra":1}')).toEqual({ expression: "1+1", extra: 1 });
  });

  it("rejects text that starts with { but is not JSON as invalid_input", () => {
    const error = appErrorOf(() => inputFromText(echo, "{bad"));
    expect(error.code).toBe("invalid_input");
    expect(error.details).toEqual({ plugin: "echo" });
  });

  it("hands plain text to the plugin's inputFromText", () => {
    expect(inputFromText(echo, "hello there")).toEqual({ text: "hello there" });
    expect(inputFromText(calculator, "2+3*4")).toEqual({ expression: "2+3*4" });
    expect(inputFromText(echo, "")).toEqual({ text: "" });
    expect(inputFromText(calculator, "  2+3*4 ")).toEqual({ expression: "2+3*4" });
  });

  it("rejects plain text for a plugin without inputFromText as invalid_input", () => {
    const error = appErrorOf(() => inputFromText(jsonOnly, "3"));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("json_only");
    expect(error.details).toEqual({ plugin: "json_only" });
    expect(inputFromText(jsonOnly, '{"n":3}')).toEqual({ n: 3 });
  });
});
