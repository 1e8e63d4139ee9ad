/**
 * Turns one command line into an executable name and its arguments, the way a POSIX shell would
 * split it ('single', "double" and backslash quoting), but without anything a shell would *do*:
 * no operators, redirections, pipes, globs, comments, command substitution or variable expansion.
 * The command is then run without a shell, so shell syntax could only ever be a surprise: it is
 * rejected with invalid_input rather than passed on as literal text. Quote a character to pass it
 * literally (`echo 'a;b'`).
 */
import { parse, type ParseEntry } from "shell-quote";
import { AppError } from "../../src/plugins/plugin.js";

export interface CommandLine {
  /** The first word: the executable, looked up by name on PATH. */
  readonly file: string;
  readonly args: readonly string[];
}

/** Splits a command line into words; throws AppError("invalid_input") on any shell syntax. */
export function parseCommandLine(commandLine: string): CommandLine {
  rejectSubstitutionsAndLineBreaks(commandLine);

  let entries: ParseEntry[];
  try {
    // Variable references are kept as written: `echo $HOME` prints "$HOME". (shell-quote gives only
    // the name, so `${HOME}` also reads "$HOME".)
    entries = parse(commandLine, (name) => `$${name}`);
  } catch (error) {
    // shell-quote throws on malformed `${...}`, e.g. "Bad substitution: ${}".
    throw new AppError("invalid_input", `the command line cannot be read: ${error instanceof Error ? error.message : String(error)}`, {
      details: { operator: "${" },
    });
  }

  const words: string[] = [];
  for (const entry of entries) {
    if (typeof entry === "string") {
      words.push(entry);
    } else if ("comment" in entry) {
      throw shellSyntax("#", "a comment (#)");
    } else if (entry.op === "glob") {
      throw new AppError(
        "invalid_input",
        `"${entry.pattern}" is a glob pattern, and the command runs without a shell, so nothing would expand it: ` +
          "name the files, or quote the pattern to pass it literally",
        { details: { operator: "glob", pattern: entry.pattern } },
      );
    } else {
      throw shellSyntax(entry.op, `the shell operator "${entry.op}"`);
    }
  }

  if (words.some((word) => word.includes("\0"))) {
    throw new AppError("invalid_input", "the command line contains a NUL character, which no argument can hold", {
      details: { operator: "NUL" },
    });
  }
  const [file, ...args] = words;
  if (file === undefined) {
    throw new AppError("invalid_input", "the command line names no command", { details: { operator: null } });
  }
  return { file, args };
}

/**
 * The executable must be a bare name (looked up on PATH, so the allow-list means what it says)
 * that is in the allow-list.
 */
export function assertAllowedExecutable(file: string, allowed: readonly string[]): void {
  if (file.includes("/") || file.includes("\\")) {
    throw new AppError("command_not_allowed", `commands are run by name, not by path: "${file}" is not allowed; allowed commands: ${allowed.join(", ")}`, {
      details: { command: file, allowed },
    });
  }
  if (!allowed.includes(file)) {
    throw new AppError("command_not_allowed", `the command "${file}" is not allowed; allowed commands: ${allowed.join(", ")}`, {
      details: { command: file, allowed },
    });
  }
}

function shellSyntax(operator: string, what: string): AppError {
  return new AppError(
    "invalid_input",
    `the command line contains ${what}, and the command runs without a shell: give one command and its arguments, ` +
      "and quote the character to pass it literally",
    { details: { operator } },
  );
}

/**
 * shell-quote keeps backticks and a double-quoted `$(...)` as plain text, where a shell would run
 * them, and reads an unquoted line break as a space, where a shell would start a second command.
 * This scan follows the same quoting rules to find them: single quotes (and $'...') make
 * everything literal, double quotes and backslashes do not protect `$(` or backticks.
 */
function rejectSubstitutionsAndLineBreaks(commandLine: string): void {
  let quote: "'" | '"' | "$'" | undefined;
  for (let i = 0; i < commandLine.length; i++) {
    const c = commandLine[i];
    const next = commandLine[i + 1];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (quote === "$'") {
      if (c === "\\") i++;
      else if (c === "'") quote = undefined;
    } else if (c === "\\") {
      i++;
    } else if (c === "`") {
      throw commandSubstitution("`");
    } else if (c === "$" && next === "(") {
      throw commandSubstitution("$(");
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "$" && next === "'") {
      quote = "$'";
      i++;
    } else if (c === "\n" || c === "\r") {
      throw shellSyntax("newline", "a line break (which separates commands in a shell)");
    }
  }
}

function commandSubstitution(operator: "`" | "$("): AppError {
  return new AppError(
    "invalid_input",
    `the command line contains command substitution (${operator === "`" ? "backticks" : "$(...)"}), and the command runs without a shell: ` +
      "give one command and its arguments, and use single quotes to pass the characters literally",
    { details: { operator } },
  );
}
