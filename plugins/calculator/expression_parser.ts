/**
 * Arithmetic expressions without eval: a tokenizer, a recursive-descent parser that compiles to
 * postfix instructions, and an iterative stack evaluator.
 *
 * Grammar (lowest precedence first):
 *   expression := term (("+" | "-") term)*
 *   term       := unary (("*" | "/" | "%") unary)*
 *   unary      := ("+" | "-") unary | power
 *   power      := primary ("^" unary)?
 *   primary    := number | constant | function "(" arguments? ")" | "(" expression ")"
 *
 * So "^" binds tighter than unary minus (-2^2 = -4) and is right-associative (2^3^2 = 512),
 * while its exponent may carry a sign (2^-1 = 0.5).
 *
 * Every problem throws AppError("invalid_input") with details { position, expression }, where
 * position is a 0-based UTF-16 index into the string given.
 */
import { AppError } from "../../src/plugins/plugin.js";

/** Parentheses, function calls, unary signs and exponents each add one level. */
export const MAX_NESTING_DEPTH = 100;

interface ExpressionErrorDetails {
  readonly position: number;
  readonly expression: string;
}

type Operator = "+" | "-" | "*" | "/" | "%" | "^";

type Token =
  | { readonly kind: "number"; readonly text: string; readonly value: number; readonly position: number }
  | { readonly kind: "identifier"; readonly text: string; readonly position: number }
  | { readonly kind: "operator"; readonly text: Operator; readonly position: number }
  | { readonly kind: "(" | ")" | ","; readonly text: string; readonly position: number }
  | { readonly kind: "end"; readonly text: ""; readonly position: number };

type Instruction =
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "negate" }
  | { readonly kind: "binary"; readonly operator: Operator; readonly position: number }
  | { readonly kind: "call"; readonly name: string; readonly argumentCount: number; readonly position: number };

interface FunctionSpec {
  readonly minArguments: number;
  readonly maxArguments: number;
  readonly apply: (args: readonly number[]) => number;
}

const unary = (fn: (x: number) => number): FunctionSpec => ({
  minArguments: 1,
  maxArguments: 1,
  apply: (args) => fn(args[0] as number),
});

const variadic = (fn: (...xs: number[]) => number): FunctionSpec => ({
  minArguments: 1,
  maxArguments: Number.POSITIVE_INFINITY,
  apply: (args) => fn(...args),
});

// Math.round sends -2.5 to -2; half away from zero is what people expect from a calculator.
const roundHalfAwayFromZero = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

const functions: ReadonlyMap<string, FunctionSpec> = new Map([
  ["sqrt", unary(Math.sqrt)],
  ["abs", unary(Math.abs)],
  ["min", variadic(Math.min)],
  ["max", variadic(Math.max)],
  ["round", unary(roundHalfAwayFromZero)],
  ["log", unary(Math.log)],
  ["sin", unary(Math.sin)],
  ["cos", unary(Math.cos)],
]);

const constants: ReadonlyMap<string, number> = new Map([
  ["pi", Math.PI],
  ["e", Math.E],
]);

export const supportedFunctions: readonly string[] = [...functions.keys()];
export const supportedConstants: readonly string[] = [...constants.keys()];

/** Evaluates an arithmetic expression; the result is always a finite number. */
export function evaluateExpression(source: string): number {
  const tokens = tokenize(source);
  const program = new Parser(source, tokens).parseProgram();
  return run(source, program);
}

function fail(source: string, position: number, message: string): never {
  const details: ExpressionErrorDetails = { position, expression: source };
  throw new AppError("invalid_input", message, { details });
}

// Sticky regexes match only at lastIndex, which keeps tokenizing linear.
const mantissaPattern = /\d+\.?\d*|\.\d+/y;
const exponentPattern = /[eE][+-]?\d+/y;
const identifierPattern = /[A-Za-z_][A-Za-z0-9_]*/y;
const whitespacePattern = /\s+/y;

function matchAt(pattern: RegExp, source: string, position: number): string | undefined {
  pattern.lastIndex = position;
  return pattern.exec(source)?.[0];
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let position = 0;
  while (position < source.length) {
    const whitespace = matchAt(whitespacePattern, source, position);
    if (whitespace !== undefined) {
      position += whitespace.length;
      continue;
    }
    const char = source[position] as string;
    const mantissa = matchAt(mantissaPattern, source, position);
    if (mantissa !== undefined) {
      let text = mantissa;
      const afterMantissa = position + mantissa.length;
      const next = source[afterMantissa];
      if (next === "e" || next === "E") {
        const exponent = matchAt(exponentPattern, source, afterMantissa);
        if (exponent === undefined) {
          fail(source, position, `Malformed number '${mantissa}${next}' at position ${position}: the exponent has no digits`);
        }
        text += exponent;
      }
      const value = Number(text);
      if (!Number.isFinite(value)) {
        fail(source, position, `Overflow: the number '${text}' at position ${position} is too large`);
      }
      tokens.push({ kind: "number", text, value, position });
      position += text.length;
      continue;
    }
    const identifier = matchAt(identifierPattern, source, position);
    if (identifier !== undefined) {
      tokens.push({ kind: "identifier", text: identifier, position });
      position += identifier.length;
      continue;
    }
    if (isOperator(char)) {
      tokens.push({ kind: "operator", text: char, position });
    } else if (char === "(" || char === ")" || char === ",") {
      tokens.push({ kind: char, text: char, position });
    } else {
      // A whole code point, so that an emoji is not reported as half a surrogate pair.
      const shown = String.fromCodePoint(source.codePointAt(position) as number);
      fail(source, position, `Unexpected character ${JSON.stringify(shown)} at position ${position}`);
    }
    position += 1;
  }
  tokens.push({ kind: "end", text: "", position: source.length });
  return tokens;
}

function isOperator(char: string): char is Operator {
  return char === "+" || char === "-" || char === "*" || char === "/" || char === "%" || char === "^";
}

function describe(token: Token): string {
  return token.kind === "end" ? "end of expression" : `'${token.text}'`;
}

class Parser {
  private index = 0;
  private depth = 0;
  private readonly program: Instruction[] = [];

  constructor(
    private readonly source: string,
    private readonly tokens: readonly Token[],
  ) {}

  parseProgram(): Instruction[] {
    const first = this.peek();
    if (first.kind === "end") fail(this.source, 0, "Expression is empty");
    this.parseExpression();
    const leftover = this.peek();
    if (leftover.kind === ")") {
      fail(this.source, leftover.position, `Unmatched ')' at position ${leftover.position}`);
    }
    if (leftover.kind !== "end") {
      fail(
        this.source,
        leftover.position,
        `Unexpected ${describe(leftover)} at position ${leftover.position}; expected an operator or the end of the expression`,
      );
    }
    return this.program;
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== "end") this.index += 1;
    return token;
  }

  private peekOperator(...operators: Operator[]): Operator | undefined {
    const token = this.peek();
    return token.kind === "operator" && operators.includes(token.text) ? token.text : undefined;
  }

  /** Bounds recursion so that hostile input cannot exhaust the stack. */
  private nested(position: number, parse: () => void): void {
    if (this.depth >= MAX_NESTING_DEPTH) {
      fail(this.source, position, `Expression is nested too deeply at position ${position} (limit: ${MAX_NESTING_DEPTH} levels)`);
    }
    this.depth += 1;
    parse();
    this.depth -= 1;
  }

  private parseExpression(): void {
    this.parseTerm();
    for (let operator = this.peekOperator("+", "-"); operator; operator = this.peekOperator("+", "-")) {
      const { position } = this.advance();
      this.parseTerm();
      this.program.push({ kind: "binary", operator, position });
    }
  }

  private parseTerm(): void {
    this.parseUnary();
    for (let operator = this.peekOperator("*", "/", "%"); operator; operator = this.peekOperator("*", "/", "%")) {
      const { position } = this.advance();
      this.parseUnary();
      this.program.push({ kind: "binary", operator, position });
    }
  }

  private parseUnary(): void {
    const sign = this.peekOperator("+", "-");
    if (sign === undefined) {
      this.parsePower();
      return;
    }
    const { position } = this.advance();
    this.nested(position, () => this.parseUnary());
    if (sign === "-") this.program.push({ kind: "negate" });
  }

  private parsePower(): void {
    this.parsePrimary();
    if (this.peekOperator("^") === undefined) return;
    const { position } = this.advance();
    // The exponent is a unary so that 2^-1 parses and 2^3^2 associates to the right.
    this.nested(position, () => this.parseUnary());
    this.program.push({ kind: "binary", operator: "^", position });
  }

  private parsePrimary(): void {
    const token = this.advance();
    switch (token.kind) {
      case "number":
        this.program.push({ kind: "number", value: token.value });
        return;
      case "identifier":
        if (this.peek().kind === "(") this.parseCall(token);
        else this.parseConstant(token);
        return;
      case "(":
        this.nested(token.position, () => this.parseExpression());
        this.expectClosing(token.position);
        return;
      default: {
        const expected = token.kind === "end" ? "" : "; expected a number, constant, function or '('";
        fail(this.source, token.position, `Unexpected ${describe(token)} at position ${token.position}${expected}`);
      }
    }
  }

  private parseConstant(token: Token): void {
    const name = token.text.toLowerCase();
    const value = constants.get(name);
    if (value !== undefined) {
      this.program.push({ kind: "number", value });
      return;
    }
    if (functions.has(name)) {
      fail(this.source, token.position, `Function '${name}' at position ${token.position} must be called with parentheses, e.g. ${name}(4)`);
    }
    fail(this.source, token.position, `Unknown name '${token.text}' at position ${token.position}; constants are ${supportedConstants.join(", ")}`);
  }

  private parseCall(token: Token): void {
    const name = token.text.toLowerCase();
    const spec = functions.get(name);
    if (spec === undefined) {
      fail(this.source, token.position, `Unknown function '${token.text}' at position ${token.position}; functions are ${supportedFunctions.join(", ")}`);
    }
    const open = this.advance();
    let argumentCount = 0;
    this.nested(token.position, () => {
      if (this.peek().kind === ")") return;
      this.parseExpression();
      argumentCount += 1;
      while (this.peek().kind === ",") {
        this.advance();
        this.parseExpression();
        argumentCount += 1;
      }
    });
    this.expectClosing(open.position, "',' or ')'");
    if (argumentCount < spec.minArguments || argumentCount > spec.maxArguments) {
      const expected =
        spec.minArguments === spec.maxArguments
          ? `exactly ${spec.minArguments} argument${spec.minArguments === 1 ? "" : "s"}`
          : `at least ${spec.minArguments} argument${spec.minArguments === 1 ? "" : "s"}`;
      fail(this.source, token.position, `Function '${name}' at position ${token.position} takes ${expected} but got ${argumentCount}`);
    }
    this.program.push({ kind: "call", name, argumentCount, position: token.position });
  }

  private expectClosing(openPosition: number, expected = "')'"): void {
    const token = this.peek();
    if (token.kind === ")") {
      this.advance();
      return;
    }
    if (token.kind === "end") {
      fail(this.source, openPosition, `Unbalanced parentheses: '(' at position ${openPosition} is never closed`);
    }
    fail(this.source, token.position, `Unexpected ${describe(token)} at position ${token.position}; expected ${expected}`);
  }
}

// Iterative, so evaluation depth does not grow with long chains like 1+1+1+...
function run(source: string, program: readonly Instruction[]): number {
  const stack: number[] = [];
  for (const instruction of program) {
    switch (instruction.kind) {
      case "number":
        stack.push(instruction.value);
        break;
      case "negate":
        stack.push(-(stack.pop() as number));
        break;
      case "binary": {
        const right = stack.pop() as number;
        const left = stack.pop() as number;
        stack.push(applyOperator(source, instruction.operator, left, right, instruction.position));
        break;
      }
      case "call": {
        const args = stack.splice(stack.length - instruction.argumentCount);
        stack.push(callBuiltin(source, instruction.name, args, instruction.position));
        break;
      }
    }
  }
  return stack[0] as number;
}

function applyOperator(source: string, operator: Operator, left: number, right: number, position: number): number {
  if ((operator === "/" || operator === "%") && right === 0) {
    fail(source, position, `Division by zero at position ${position}`);
  }
  const result = compute(operator, left, right);
  if (Number.isFinite(result)) return result;
  if (operator === "^" && left === 0 && right < 0) {
    fail(source, position, `Division by zero at position ${position}: 0 raised to a negative power is undefined`);
  }
  if (Number.isNaN(result)) {
    fail(source, position, `${left} ^ ${right} at position ${position} is not a real number`);
  }
  fail(source, position, `Overflow: the result of '${operator}' at position ${position} is too large`);
}

function compute(operator: Operator, left: number, right: number): number {
  switch (operator) {
    case "+":
      return left + right;
    case "-":
      return left - right;
    case "*":
      return left * right;
    case "/":
      return left / right;
    case "%":
      return left % right;
    case "^":
      return left ** right;
  }
}

function callBuiltin(source: string, name: string, args: readonly number[], position: number): number {
  const result = (functions.get(name) as FunctionSpec).apply(args);
  if (Number.isFinite(result)) return result;
  const call = `${name}(${args.join(", ")})`;
  if (Number.isNaN(result)) fail(source, position, `${call} at position ${position} is not a real number`);
  fail(source, position, `${call} at position ${position} is undefined`);
}
