/**
 * The environment a command runs with. It starts empty and receives only what a program needs
 * to be found and to print text sensibly, so nothing the application holds (storage connection
 * strings, REDIS_URL, HF_TOKEN, AZURE_*, IDENTITY_ENDPOINT/IDENTITY_HEADER, MSI_*, ...) can reach it.
 */

/** The only variables copied from the application's environment. */
export const passedThroughVariables = ["PATH", "LANG", "LC_ALL", "TZ"] as const;

/** Used when the application has no PATH, or none with an absolute directory in it. */
export const fallbackPath = "/usr/local/bin:/usr/bin:/bin";

export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The variables for a command that runs in `workDir`: PATH, LANG, LC_ALL and TZ from `inherited`
 * (when set), and HOME and TMPDIR pointing at `workDir`.
 */
export function scrubbedEnvironment(workDir: string, inherited: Environment): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const name of passedThroughVariables) {
    const value = inherited[name];
    if (value !== undefined && value !== "") environment[name] = value;
  }
  environment.PATH = absolutePath(inherited.PATH);
  environment.HOME = workDir;
  environment.TMPDIR = workDir;
  return environment;
}

/**
 * The pass-through variables of this process. Plugins take their configuration from the settings
 * and never read the environment; this is the one exception, and it is not configuration: PATH
 * (where the allowed executables are found), the locale and the time zone are handed on to the
 * child unchanged, like any program does when it starts another. Nothing else is read.
 */
export function inheritedVariables(): Environment {
  const inherited: Record<string, string | undefined> = {};
  for (const name of passedThroughVariables) inherited[name] = process.env[name];
  return inherited;
}

/**
 * PATH without empty or relative entries: those are resolved against the working directory,
 * where the command itself may have written files.
 */
function absolutePath(path: string | undefined): string {
  const directories = (path ?? "").split(":").filter((directory) => directory.startsWith("/"));
  return directories.length > 0 ? directories.join(":") : fallbackPath;
}
