import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, it, expect } from "vitest";
import { AppError } from "../../../../src/errors/app_error.js";
import { assertArgumentsInside, pathCandidates } from "../../../../plugins/shell/path_confinement.js";

const workDir = mkdtempSync(join(tmpdir(), "path-confinement-test-"));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function rejection(args: string[]): AppError {
  try {
    assertArgumentsInside(args, workDir);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`expected ${JSON.stringify(args)} to be refused`);
}

describe("assertArgumentsInside allows", () => {
  it.each([
    // Plain words and options.
    "hello",
    "hello/world",
    "-la",
    "-1",
    "-n",
    "--",
    "-",
    "+%Y-%m-%d",
    "$HOME",
    "",
    "a b",
    "x=1",
    "--color=auto",
    "key:value",
    "C:foo", // a file name on POSIX (on Windows path.resolve puts it on drive C:, outside the directory)
    "http://example.com/a/b", // not a path, and it resolves inside the directory anyway
    // Relative paths that stay inside.
    ".",
    "./",
    "./x",
    "file.txt",
    "a/b/c",
    "a/../b",
    "a/b/../..",
    "..foo",
    "foo..",
    "a/..b",
    "--file=./x",
    "if=data.bin",
    "-ofile.txt",
    "-C.",
    "-C./sub/dir",
    "-Csub",
  ])("%j", (argument) => {
    expect(() => assertArgumentsInside([argument], workDir)).not.toThrow();
  });

  it("an empty argument list", () => {
    expect(() => assertArgumentsInside([], workDir)).not.toThrow();
  });
});

describe("assertArgumentsInside refuses with path_not_allowed", () => {
  it.each<[string, string]>([
    // Absolute paths.
    ["/", "is an absolute path"],
    ["/root", "is an absolute path"],
    ["/etc/passwd", "is an absolute path"],
    ["//server/share", "is an absolute path"],
    [workDir, "is an absolute path"], // even its own directory: absolute paths are refused as such
    ["C:\\Windows", "is an absolute path"],
    ["c:/Windows", "is an absolute path"],
    ["\\\\server\\share", "is an absolute path"],
    ["\\Windows", "is an absolute path"],
    // Home directories.
    ["~", "starts with ~ (a home directory)"],
    ["~/x", "starts with ~ (a home directory)"],
    ["~root", "starts with ~ (a home directory)"],
    // Relative paths that lead out.
    ["..", "resolves outside the working directory"],
    ["../", "resolves outside the working directory"],
    ["../x", "resolves outside the working directory"],
    ["./..", "resolves outside the working directory"],
    ["a/../../b", "resolves outside the working directory"],
    ["a/b/../../..", "resolves outside the working directory"],
    ["..\\x", "resolves outside the working directory"],
    // The value after the first `=`.
    ["--file=/etc/passwd", "is an absolute path"],
    ["--directory=/etc", "is an absolute path"],
    ["if=/dev/sda", "is an absolute path"],
    ["--dir=..", "resolves outside the working directory"],
    ["--config=~/.ssh/config", "starts with ~ (a home directory)"],
    ["a=b=/etc", "is an absolute path"],
    ["-Dconfig=/etc/x", "is an absolute path"],
    // The value glued to a short option, after any letter of a cluster.
    ["-C/etc", "is an absolute path"],
    ["-f../x", "resolves outside the working directory"],
    ["-C..", "resolves outside the working directory"],
    ["-xf/etc/x", "is an absolute path"],
    // Any letter of a cluster may take the rest as its value: `-Csub` + `/dir` is possible, so this is refused.
    ["-Csub/dir", "is an absolute path"],
    ["-I~", "starts with ~ (a home directory)"],
  ])("%j (%s)", (argument, reason) => {
    const error = rejection([argument]);
    expect(error.code).toBe("path_not_allowed");
    expect(error.details).toEqual({ argument });
    expect(error.message).toBe(`the argument ${JSON.stringify(argument)} ${reason}: the command may only use paths inside its own temporary working directory`);
  });

  it("checks every argument, and names the first one outside", () => {
    expect(rejection(["-la", "ok", "/root", "../x"]).details).toEqual({ argument: "/root" });
  });

  it("refuses an argument with a NUL (parseCommandLine already does)", () => {
    expect(rejection(["a\0b"])).toMatchObject({ code: "path_not_allowed", details: { argument: "a\0b" } });
  });
});

describe("pathCandidates", () => {
  it.each<[string, string[]]>([
    ["hello", ["hello"]],
    ["--file=/x", ["--file=/x", "/x"]],
    ["a=b=/etc", ["a=b=/etc", "b=/etc", "/etc"]],
    ["-C/etc", ["-C/etc", "/etc"]],
    ["-xf/y", ["-xf/y", "f/y", "/y"]],
    ["-la", ["-la", "a"]],
    ["--long/x", ["--long/x"]],
  ])("%j → %j", (argument, candidates) => {
    expect(pathCandidates(argument)).toEqual(candidates);
  });
});
