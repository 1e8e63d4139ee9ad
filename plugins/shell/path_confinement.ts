/**
 * Keeps a command's arguments inside the directory it runs in.
 *
 * The command runs with the application's own operating-system permissions: whatever files the
 * app's user can read or write, an allowed `cat` or `rm` could reach by being given a path. So
 * every argument that could name a file outside the run's fresh temporary directory is refused
 * with path_not_allowed (403) before the command starts:
 *
 * - absolute paths: `/etc`, and Windows' `C:\x`, `C:/x`, `\x`, `\\server\share`;
 * - anything starting with `~` (`~`, `~/x`, `~root`): a program that expands it would leave the
 *   directory, and a literal `~` is never what was meant;
 * - relative paths that, resolved against the directory, land outside it: `..`, `../x`, `a/../../b`.
 *
 * Relative paths that stay inside (`.`, `./x`, `a/../b`, `file.txt`) and plain words (`hello`,
 * `-la`, `+%Y`) pass: a word that is not meant as a path resolves inside the directory anyway.
 *
 * Besides the whole argument, the parts of it that programs commonly read as a path are checked:
 * the value after an `=` (`--file=/etc/passwd`, `if=/dev/sda`) and the value glued to a short
 * option (`-C/etc`, `-f../x`, `-xf/etc/x`). Backslashes count as separators, so the
 * answer is the same on every platform.
 *
 * This is a check of the words passed, not a sandbox: it cannot see paths a program builds itself
 * or reads from elsewhere, which is why programs that run other programs or code (`sh -c '...'`,
 * interpreters) allow everything, and why the plugin is for trusted operators only.
 */
import { isAbsolute, relative, resolve } from "node:path";
import { AppError } from "../../src/plugins/plugin.js";

/** Throws AppError("path_not_allowed") for the first argument that names a path outside `workDir`. */
export function assertArgumentsInside(args: readonly string[], workDir: string): void {
  for (const argument of args) {
    if (argument.includes("\0")) {
      // parseCommandLine already refuses these; a path with a NUL in it cannot be judged.
      throw refusal(argument, "contains a NUL character");
    }
    for (const candidate of pathCandidates(argument)) {
      const reason = outsideReason(candidate, workDir);
      if (reason !== undefined) throw refusal(argument, reason);
    }
  }
}

/** The argument itself and the parts of it a program may read as a path. */
export function pathCandidates(argument: string): string[] {
  const candidates = [argument];
  // The value after an `=`; after every one, so `-Dname=/etc/x` and `--opt=a=/etc` are seen too.
  for (let equals = argument.indexOf("="); equals >= 0; equals = argument.indexOf("=", equals + 1)) {
    candidates.push(argument.slice(equals + 1));
  }
  // A short-option cluster (`-xf/etc/x`): any of its letters may be the one that takes the rest
  // as its value, so the rest after every letter is a candidate. This errs on the side of
  // refusing: `-Csub/dir` may be `-C` + `sub/dir` or `-Csub` + `/dir`, so it is refused, while
  // `-C./sub/dir` and `-C sub/dir` pass.
  const cluster = /^-([A-Za-z0-9]+)/.exec(argument);
  if (cluster && !argument.startsWith("--")) {
    for (let end = 2; end <= 1 + cluster[1]!.length; end++) candidates.push(argument.slice(end));
  }
  return candidates.filter((candidate) => candidate !== "");
}

/** Why `candidate` names a place outside `workDir`, or undefined when it stays inside. */
function outsideReason(candidate: string, workDir: string): string | undefined {
  const path = candidate.replaceAll("\\", "/");
  if (path.startsWith("/") || /^[A-Za-z]:\//.test(path)) return "is an absolute path";
  if (path.startsWith("~")) return "starts with ~ (a home directory)";
  // On Windows a drive-relative path (`D:x`) resolves onto another drive: outside as well.
  const fromDir = relative(resolve(workDir), resolve(workDir, path));
  if (fromDir === ".." || fromDir.startsWith("../") || fromDir.startsWith("..\\") || isAbsolute(fromDir)) {
    return "resolves outside the working directory";
  }
  return undefined;
}

function refusal(argument: string, reason: string): AppError {
  return new AppError(
    "path_not_allowed",
    `the argument ${JSON.stringify(argument)} ${reason}: the command may only use paths inside its own temporary working directory`,
    { details: { argument } },
  );
}
