import { describe, it, expect } from "vitest";
import { z } from "zod";
import { AppError } from "../../../src/errors/app_error.js";
import type { AnyPlugin } from "../../../src/plugins/plugin.js";
import { inputFromText } from "../../../src/plugins/plugin_input.js";
import { CalculatorPlugin } from "../../../plugins/calculator_plugin.js";
import { EchoPlugin } from "../../../plugins/echo_plugin.js";
import { pluginEnvironment } from "../../support/plugin_context.js";

const echo = new EchoPlugin(pluginEnvironment());
const calculator = new CalculatorPlugin(pluginEnvironment());

/** A plugin that only takes JSON input. */
const jsonOnly: AnyPlugin = {
  name: "json_only",
  description: "takes JSON",
  inputSchema: z.object({ n: z.number() }),
  initialize: async () => {},
  execute: async (data: { n: number }) => ({ doubled: data.n * 2 }),
  shutdown: async () => {},
};

function appErrorOf(action: () => unknown): AppError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected an AppError");
}

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
