import { describe, it, expect } from "vitest";
import { AppError } from "../../../../src/errors/app_error.js";
import { evaluateExpression, MAX_NESTING_DEPTH, supportedConstants, supportedFunctions } from "../../../../plugins/calculator/expression_parser.js";

function errorOf(source: string): AppError {
  try {
    evaluateExpression(source);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`expected ${JSON.stringify(source)} to fail, but it evaluated`);
}

function expectFailure(source: string, position: number, message: RegExp): void {
  const error = errorOf(source);
  expect(error.code).toBe("invalid_input");
  expect(error.details).toEqual({ position, expression: source });
  expect(error.message).toMatch(message);
}

describe("evaluateExpression: precedence and associativity", () => {
  it.each([
    ["2+3*4", 14],
    ["(2+3)*4", 20],
    ["10-4-3", 3],
    ["100/10/5", 2],
    ["2*3/4", 1.5],
    ["7-2*3+1", 2],
    ["2^3^2", 512],
    ["(2^3)^2", 64],
    ["2*3^2", 18],
    ["2^3*2", 16],
    ["1+2^3", 9],
    ["17%5*2", 4],
    ["1+17%5", 3],
    ["((((7))))", 7],
  ])("%s = %s", (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });
});

describe("evaluateExpression: unary signs", () => {
  it.each([
    ["-2", -2],
    ["+2", 2],
    ["--2", 2],
    ["-+-2", 2],
    ["---2", -2],
    ["-(2+3)", -5],
    ["2*-3", -6],
    ["2--3", 5],
    ["2+-3", -1],
    ["-2^2", -4],
    ["(-2)^2", 4],
    ["2^-1", 0.5],
    ["2^-2^2", 0.0625],
    ["-2*-2", 4],
    ["-3%2", -1],
  ])("%s = %s", (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });

  it("keeps the sign of a negative zero for the plugin to normalise", () => {
    expect(Object.is(evaluateExpression("-0"), -0)).toBe(true);
  });
});

describe("evaluateExpression: numbers", () => {
  it.each([
    ["3", 3],
    ["3.5", 3.5],
    [".5", 0.5],
    ["2.", 2],
    ["007", 7],
    ["1e3", 1000],
    ["1E3", 1000],
    ["2.5E-2", 0.025],
    ["1e+2", 100],
    [".5e1", 5],
    ["2.e1", 20],
    ["1e-400", 0],
    ["0.1+0.2", 0.30000000000000004],
  ])("%s = %s", (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });

  it("allows whitespace anywhere between tokens", () => {
    expect(evaluateExpression("  \t2 +\n3 *  4 ")).toBe(14);
    expect(evaluateExpression(" max ( 1 , 2 ) ")).toBe(2);
  });
});

describe("evaluateExpression: remainder", () => {
  it.each([
    ["7%3", 1],
    ["-7%3", -1],
    ["7%-3", 1],
    ["5.5%2", 1.5],
    ["6%3", 0],
  ])("%s = %s", (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });
});

describe("evaluateExpression: functions and constants", () => {
  it.each([
    ["sqrt(16)", 4],
    ["sqrt(2)", Math.SQRT2],
    ["abs(-3.5)", 3.5],
    ["abs(3)", 3],
    ["min(3)", 3],
    ["min(3, 1, 2)", 1],
    ["max(3)", 3],
    ["max(3, 1, 2)", 3],
    ["max(-1, -5)", -1],
    ["round(2.4)", 2],
    ["round(2.5)", 3],
    ["round(-2.5)", -3],
    ["round(-2.4)", -2],
    ["log(1)", 0],
    ["log(e)", 1],
    ["log(e^2)", 2],
    ["sin(0)", 0],
    ["sin(pi/2)", 1],
    ["cos(0)", 1],
    ["cos(pi)", -1],
    ["pi", Math.PI],
    ["e", Math.E],
    ["PI", Math.PI],
    ["E", Math.E],
    ["SQRT(9)", 3],
    ["Max(1, 2)", 2],
    ["2*pi", 2 * Math.PI],
    ["-pi", -Math.PI],
    ["sqrt(3^2+4^2)", 5],
    ["max(1+1, 2*2, 3)^2", 16],
    ["abs(min(-2, 3) * max(4, 5))", 10],
  ])("%s = %s", (source, expected) => {
    expect(evaluateExpression(source)).toBe(expected);
  });

  it("lists the supported names", () => {
    expect([...supportedFunctions].sort()).toEqual(["abs", "cos", "log", "max", "min", "round", "sin", "sqrt"]);
    expect([...supportedConstants].sort()).toEqual(["e", "pi"]);
  });
});

describe("evaluateExpression: errors", () => {
  it.each<[string, string, number, RegExp]>([
    ["unexpected character", "2#3", 1, /^Unexpected character "#" at position 1$/],
    ["unexpected character (non-ASCII)", "2×3", 1, /Unexpected character "×" at position 1/],
    ["unexpected character (emoji)", "1+😀", 2, /Unexpected character "😀"/],
    ["lone dot", "1+.", 2, /Unexpected character "\." at position 2/],
    ["malformed exponent", "1+2e", 2, /Malformed number '2e' at position 2/],
    ["malformed signed exponent", "3E-", 0, /Malformed number '3E'/],
    ["two numbers", "2 3", 2, /Unexpected '3' at position 2; expected an operator/],
    ["two operators", "2+*3", 2, /Unexpected '\*' at position 2; expected a number/],
    ["leading operator", "*3", 0, /Unexpected '\*' at position 0/],
    ["implicit multiplication", "2(3)", 1, /Unexpected '\(' at position 1/],
    ["number after number", "1.2.3", 3, /Unexpected '\.3' at position 3/],
    ["comma at top level", "1,2", 1, /Unexpected ',' at position 1/],
    ["empty parentheses", "()", 1, /Unexpected '\)' at position 1; expected a number/],
    ["trailing comma", "max(1,)", 6, /Unexpected '\)' at position 6/],
    ["argument separator missing", "max(1 2)", 6, /Unexpected '2' at position 6; expected ',' or '\)'/],
    ["unexpected end after operator", "2+", 2, /^Unexpected end of expression at position 2$/],
    ["unexpected end after unary", "-", 1, /Unexpected end of expression at position 1/],
    ["unexpected end after ^", "2^", 2, /Unexpected end of expression/],
    ["unexpected end counts trailing spaces", "2 *  ", 5, /Unexpected end of expression at position 5/],
    ["unclosed parenthesis", "(2+3", 0, /Unbalanced parentheses: '\(' at position 0 is never closed/],
    ["unclosed inner parenthesis", "(1+(2)", 0, /'\(' at position 0 is never closed/],
    ["unclosed innermost parenthesis", "((1)+(2", 5, /'\(' at position 5 is never closed/],
    ["unclosed function call", "sqrt(4", 4, /'\(' at position 4 is never closed/],
    ["unmatched closing parenthesis", "2+3)", 3, /^Unmatched '\)' at position 3$/],
    ["unmatched closing parenthesis later", "(1))+2", 3, /Unmatched '\)' at position 3/],
    ["unknown name", "2*foo", 2, /Unknown name 'foo' at position 2; constants are pi, e/],
    ["unknown function", "foo(1)", 0, /Unknown function 'foo' at position 0; functions are sqrt/],
    ["constant called as function", "1+pi(2)", 2, /Unknown function 'pi' at position 2/],
    ["function without parentheses", "sqrt 4", 0, /Function 'sqrt' at position 0 must be called with parentheses/],
    ["too many arguments", "1+sqrt(1, 2)", 2, /Function 'sqrt' at position 2 takes exactly 1 argument but got 2/],
    ["no arguments", "round()", 0, /Function 'round' at position 0 takes exactly 1 argument but got 0/],
    ["min without arguments", "min()", 0, /Function 'min' at position 0 takes at least 1 argument but got 0/],
    ["max without arguments", "2*max( )", 2, /Function 'max' at position 2 takes at least 1 argument but got 0/],
    ["division by zero", "1/0", 1, /^Division by zero at position 1$/],
    ["division by computed zero", "4 / (2-2)", 2, /Division by zero at position 2/],
    ["zero divided by zero", "0/0", 1, /Division by zero/],
    ["remainder by zero", "5%0", 1, /Division by zero at position 1/],
    ["remainder by negative zero", "5 % -0", 2, /Division by zero at position 2/],
    ["zero to a negative power", "0^-1", 1, /Division by zero at position 1: 0 raised to a negative power/],
    ["power overflow", "10^400", 2, /^Overflow: the result of '\^' at position 2 is too large$/],
    ["multiplication overflow", "1e308*10", 5, /Overflow: the result of '\*' at position 5/],
    ["addition overflow", "1e308+1e308", 5, /Overflow: the result of '\+' at position 5/],
    ["division overflow", "1e308/0.1", 5, /Overflow: the result of '\/' at position 5/],
    ["literal overflow", "1+1e400", 2, /Overflow: the number '1e400' at position 2 is too large/],
    ["sqrt of a negative", "1+sqrt(-1)", 2, /^sqrt\(-1\) at position 2 is not a real number$/],
    ["log of a negative", "log(-2)", 0, /log\(-2\) at position 0 is not a real number/],
    ["log of zero", "log(0)", 0, /^log\(0\) at position 0 is undefined$/],
    ["fractional power of a negative", "(-8)^(1/3)", 4, /at position 4 is not a real number/],
    ["empty expression", "", 0, /^Expression is empty$/],
    ["whitespace-only expression", "   ", 0, /^Expression is empty$/],
  ])("%s: %j", (_label, source, position, message) => {
    expectFailure(source, position, message);
  });

  it("reports a syntax error before any evaluation error", () => {
    expectFailure("1/0+", 4, /Unexpected end of expression/);
  });
});

describe("evaluateExpression: nesting bound", () => {
  it(`accepts ${MAX_NESTING_DEPTH} levels of parentheses`, () => {
    const source = `${"(".repeat(MAX_NESTING_DEPTH)}1${")".repeat(MAX_NESTING_DEPTH)}`;
    expect(evaluateExpression(source)).toBe(1);
  });

  it("rejects one level more at the parenthesis that exceeds the bound", () => {
    const source = `${"(".repeat(MAX_NESTING_DEPTH + 1)}1${")".repeat(MAX_NESTING_DEPTH + 1)}`;
    expectFailure(source, MAX_NESTING_DEPTH, /^Expression is nested too deeply at position 100 \(limit: 100 levels\)$/);
  });

  it("bounds chains of unary minus", () => {
    expect(evaluateExpression(`${"-".repeat(MAX_NESTING_DEPTH)}1`)).toBe(1);
    expectFailure(`${"-".repeat(MAX_NESTING_DEPTH + 1)}1`, MAX_NESTING_DEPTH, /nested too deeply/);
  });

  it("bounds chains of ^", () => {
    expect(
      evaluateExpression(
        Array(MAX_NESTING_DEPTH + 1)
          .fill("1")
          .join("^"),
      ),
    ).toBe(1);
    const tooDeep = Array(MAX_NESTING_DEPTH + 2)
      .fill("1")
      .join("^");
    expectFailure(tooDeep, 2 * MAX_NESTING_DEPTH + 1, /nested too deeply/);
  });

  it("bounds nested function calls", () => {
    const source = `${"abs(".repeat(MAX_NESTING_DEPTH + 1)}1${")".repeat(MAX_NESTING_DEPTH + 1)}`;
    expectFailure(source, 4 * MAX_NESTING_DEPTH, /nested too deeply/);
  });

  it("rejects hostile input with an AppError rather than a stack overflow", () => {
    const error = errorOf("(".repeat(100_000));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toMatch(/nested too deeply/);
  });

  it("handles long flat chains without deep recursion", () => {
    expect(evaluateExpression(Array(50_000).fill("1").join("+"))).toBe(50_000);
    expect(evaluateExpression(Array(50_000).fill("2").join("*0.5*"))).toBe(2);
  });
});
