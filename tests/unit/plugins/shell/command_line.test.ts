import { describe, it, expect } from "vitest";
import { AppError } from "../../../../src/errors/app_error.js";
import { assertAllowedExecutable, parseCommandLine } from "../../../../plugins/shell/command_line.js";

function rejection(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error("expected an AppError");
}

describe("parseCommandLine", () => {
  it.each<[string, string, string[]]>([
    ["echo hello", "echo", ["hello"]],
    ["  echo   a    b  ", "echo", ["a", "b"]],
    [`echo "a b" 'c d'`, "echo", ["a b", "c d"]],
    [`echo a\\ b`, "echo", ["a b"]],
    [`echo 'it''s' "say \\"hi\\""`, "echo", ["its", 'say "hi"']],
    [`printf '%s\\n' x`, "printf", ["%s\\n", "x"]],
    [`echo $'a\\tb'`, "echo", ["a\tb"]],
    [`echo ""`, "echo", [""]],
    ["echo a=b --flag=1 -x", "echo", ["a=b", "--flag=1", "-x"]],
    // Quoting passes shell syntax through literally.
    [`echo 'a;b' "c|d" 'x > y' "*" '$(id)' '\`id\`' \\; \\&`, "echo", ["a;b", "c|d", "x > y", "*", "$(id)", "`id`", ";", "&"]],
    [`echo "line one\nline two"`, "echo", ["line one\nline two"]],
    ["echo ~ {a,b} !x", "echo", ["~", "{a,b}", "!x"]],
  ])("splits %s", (commandLine, file, args) => {
    expect(parseCommandLine(commandLine)).toEqual({ file, args });
  });

  it.each<[string, string]>([
    ["echo $HOME", "$HOME"],
    ["echo ${HOME}", "$HOME"],
    [`echo "$HOME"`, "$HOME"],
    ["echo '$HOME'", "$HOME"],
    ["echo \\$HOME", "$HOME"],
    ["echo $UNDEFINED_VARIABLE_FOR_THE_TEST", "$UNDEFINED_VARIABLE_FOR_THE_TEST"],
    ["echo $", "$"],
    ["echo $$", "$$"],
    ["echo $?", "$?"],
  ])("does not expand variables: %s", (commandLine, arg) => {
    expect(parseCommandLine(commandLine).args).toEqual([arg]);
  });

  it.each<[string, string]>([
    ["touch a; touch b", ";"],
    ["touch a;touch b", ";"],
    ["echo a | cat", "|"],
    ["echo a || echo b", "||"],
    ["echo a && echo b", "&&"],
    ["sleep 1 &", "&"],
    ["echo x > marker", ">"],
    ["echo x>marker", ">"],
    ["echo x >> marker", ">>"],
    ["cat < file", "<"],
    ["echo x 2>&1", ">&"],
    ["cat <<EOF", "<<"],
    ["diff <(ls) b", "<("],
    ["(echo a)", "("],
    ["echo $(id)", "$("],
    [`echo "$(id)"`, "$("],
    ["echo $((1+2))", "$("],
    ["echo `id`", "`"],
    [`echo "\`id\`"`, "`"],
    ["echo a # comment", "#"],
    ["echo a\necho b", "newline"],
    ["echo a\r\necho b", "newline"],
  ])("rejects %s with invalid_input naming %s", (commandLine, operator) => {
    const error = rejection(() => parseCommandLine(commandLine));
    expect(error.code).toBe("invalid_input");
    expect(error.details).toEqual({ operator });
    expect(error.message).toContain("without a shell");
  });

  it.each([
    ["echo *.txt", "*.txt"],
    ["ls a?", "a?"],
    ["echo \\*", "*"],
  ])("rejects the glob in %s", (commandLine, pattern) => {
    const error = rejection(() => parseCommandLine(commandLine));
    expect(error.code).toBe("invalid_input");
    expect(error.details).toEqual({ operator: "glob", pattern });
    expect(error.message).toContain("glob");
  });

  it("rejects a malformed ${} reference", () => {
    const error = rejection(() => parseCommandLine("echo ${}"));
    expect(error.code).toBe("invalid_input");
    expect(error.message).toContain("Bad substitution");
  });

  it("rejects a NUL character, which no argument can carry", () => {
    expect(rejection(() => parseCommandLine("echo a\0b")).details).toEqual({ operator: "NUL" });
  });

  it("rejects a line without a command", () => {
    expect(rejection(() => parseCommandLine("# only a comment")).code).toBe("invalid_input");
    expect(rejection(() => parseCommandLine("   ")).message).toBe("the command line names no command");
  });
});

describe("assertAllowedExecutable", () => {
  const allowed = ["echo", "ls"];

  it("accepts a bare name from the allow-list", () => {
    expect(() => assertAllowedExecutable("echo", allowed)).not.toThrow();
  });

  it.each(["cat", "ECHO", "echo ", ""])("rejects %j, which is not in the allow-list", (file) => {
    const error = rejection(() => assertAllowedExecutable(file, allowed));
    expect(error.code).toBe("command_not_allowed");
    expect(error.details).toEqual({ command: file, allowed });
    expect(error.message).toContain("allowed commands: echo, ls");
  });

  it.each(["/bin/echo", "./echo", "../bin/ls", "bin/echo", "C:\\echo"])("rejects the path %s, even to an allowed program", (file) => {
    const error = rejection(() => assertAllowedExecutable(file, allowed));
    expect(error.code).toBe("command_not_allowed");
    expect(error.details).toEqual({ command: file, allowed });
    expect(error.message).toContain("by name, not by path");
  });
});
