import { z } from "zod";
import { BasePlugin, type PluginContext, type PluginEnvironment } from "../src/plugins/plugin.js";
import { evaluateExpression } from "./calculator/expression_parser.js";

const calculatorInputSchema = z.strictObject({
  expression: z.string().trim().min(1).max(1000).describe("An arithmetic expression such as 2+3*4, (1.5e3 - 200) / 4 or max(2, sqrt(16))^2"),
});

export type CalculatorInput = z.infer<typeof calculatorInputSchema>;

export class CalculatorPlugin extends BasePlugin<CalculatorInput, number> {
  readonly name = "calculator";
  readonly title = "Calculator";
  readonly description =
    "Evaluates an arithmetic expression exactly as written and returns the number. " +
    "Operators: + - * / % (remainder) ^ (power, right-associative, binds tighter than unary minus, so -2^2 = -4), " +
    "unary + and -, parentheses. Numbers may be decimals or use exponents (2.5e-3). " +
    "Functions: sqrt, abs, min, max (one or more comma-separated arguments), round (half away from zero), " +
    "log (natural), sin and cos (radians). Constants: pi, e. " +
    "Division by zero, overflow and results that are not real numbers are reported as errors.";
  readonly annotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };
  readonly inputSchema = calculatorInputSchema;
  // The result depends on the expression alone.
  readonly cacheTtlSeconds = 3600;

  // Takes the environment to fit PluginClass; the calculator needs nothing from it.
  constructor(_environment: PluginEnvironment) {
    super();
  }

  async execute(data: CalculatorInput, context: PluginContext): Promise<number> {
    const result = evaluateExpression(data.expression);
    context.logger.debug("calculator evaluated", { length: data.expression.length });
    // Callers should never see a negative zero, e.g. from "-0" or "round(-0.4)".
    return Object.is(result, -0) ? 0 : result;
  }

  inputFromText(text: string): CalculatorInput {
    return { expression: text };
  }

  formatReply(result: number): string {
    return String(result);
  }
}
