import { readFileSync } from "node:fs";
import { describe, it, expect } from "vitest";
import { AppError } from "../../../src/errors/app_error.js";
import { pluginContext, pluginEnvironment } from "../../support/plugin_context.js";
import { CalculatorPlugin } from "../../../plugins/calculator_plugin.js";

const plugin = new CalculatorPlugin(pluginEnvironment());

const context = pluginContext();

describe("CalculatorPlugin metadata", () => {
  it("is named calculator and describes its operators and functions", () => {
    expect(plugin.name).toBe("calculator");
    for (const word of ["+", "-", "*", "/", "%", "^", "sqrt", "abs", "min", "max", "round", "log", "sin", "cos", "pi"]) {
      expect(plugin.description).toContain(word);
    }
  });
});

describe("CalculatorPlugin input schema", () => {
  it("accepts an expression and trims it", () => {
    const parsed = plugin.inputSchema.safeParse({ expression: "  2+3*4 " });
    expect(parsed.success).toBe(true);
    expect(parsed.data).toEqual({ expression: "2+3*4" });
  });

  it("accepts an expression of exactly 1000 characters", () => {
    expect(plugin.inputSchema.safeParse({ expression: "1".repeat(1000) }).success).toBe(true);
  });

  it.each<[string, unknown]>([
    ["missing expression", {}],
    ["empty expression", { expression: "" }],
    ["whitespace-only expression", { expression: "   " }],
    ["over-long expression", { expression: "1".repeat(1001) }],
    ["numeric expression", { expression: 42 }],
    ["null expression", { expression: null }],
    ["extra key", { expression: "1+1", precision: 2 }],
    ["not an object", "2+3*4"],
    ["null", null],
  ])("rejects %s", (_label, input) => {
    expect(plugin.inputSchema.safeParse(input).success).toBe(false);
  });
});

describe("CalculatorPlugin.execute", () => {
  it.each([
    ["2+3*4", 14],
    ["2^3^2", 512],
    ["-2^2", -4],
    ["max(1, 2, 3) / 2", 1.5],
    ["0.1+0.2", 0.30000000000000004],
  ])("%s gives %s", async (expression, expected) => {
    expect(await plugin.execute({ expression }, context)).toBe(expected);
  });

  it.each(["-0", "0*-1", "round(-0.4)"])("normalises the negative zero of %s to 0", async (expression) => {
    const result = await plugin.execute({ expression }, context);
    expect(Object.is(result, 0)).toBe(true);
  });

  it("rejects a bad expression with invalid_input and its position", async () => {
    const failure = plugin.execute({ expression: "1/0" }, context);
    await expect(failure).rejects.toBeInstanceOf(AppError);
    await expect(failure).rejects.toMatchObject({
      code: "invalid_input",
      details: { position: 1, expression: "1/0" },
    });
  });
});

describe("CalculatorPlugin chat helpers", () => {
  it("turns /run text into input that the schema accepts", () => {
    const input = plugin.inputFromText("2+3*4");
    expect(input).toEqual({ expression: "2+3*4" });
    expect(plugin.inputSchema.safeParse(input).success).toBe(true);
  });

  it("formats a result as plain text", () => {
    expect(plugin.formatReply(14)).toBe("14");
    expect(plugin.formatReply(0.5)).toBe("0.5");
    expect(plugin.formatReply(-3)).toBe("-3");
  });
});

describe("CalculatorPlugin sources", () => {
  it.each(["plugins/calculator_plugin.ts", "plugins/calculator/expression_parser.ts"])("%s uses neither eval nor Function", (path) => {
    const source = readFileSync(new URL(`../../../${path}`, import.meta.url), "utf8");
    expect(source.length).toBeGreaterThan(0);
    expect(source).not.toContain("eval(");
    expect(source).not.toContain("Function(");
    expect(source).not.toMatch(/\beval\s*\(|\bFunction\s*\(/);
  });
});
