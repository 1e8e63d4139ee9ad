import { afterEach, describe, it, expect, vi } from "vitest";
import { fallbackPath, inheritedVariables, passedThroughVariables, scrubbedEnvironment } from "../../../../plugins/shell/scrubbed_environment.js";

const secrets = {
  STORAGE_CONNECTION_STRING: "DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0",
  REDIS_URL: "redis://:password@cache:6379",
  HF_TOKEN: "hf_secret",
  AZURE_CLIENT_ID: "00000000-0000-0000-0000-000000000000",
  AZURE_CLIENT_SECRET: "azure-secret",
  IDENTITY_ENDPOINT: "http://localhost:4141/msi/token",
  IDENTITY_HEADER: "identity-secret",
  MSI_ENDPOINT: "http://localhost:4141/msi/token",
  MSI_SECRET: "msi-secret",
  AzureWebJobsStorage: "UseDevelopmentStorage=true",
  TEST_SECRET_TOKEN: "s3cret",
};

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("scrubbedEnvironment", () => {
  it("keeps only PATH, LANG, LC_ALL and TZ, and points HOME and TMPDIR at the working directory", () => {
    const environment = scrubbedEnvironment("/tmp/work", {
      ...secrets,
      PATH: "/usr/bin:/bin",
      LANG: "C.UTF-8",
      LC_ALL: "C.UTF-8",
      TZ: "UTC",
      HOME: "/home/app",
      TMPDIR: "/var/tmp",
      USER: "app",
    });
    expect(environment).toEqual({ PATH: "/usr/bin:/bin", LANG: "C.UTF-8", LC_ALL: "C.UTF-8", TZ: "UTC", HOME: "/tmp/work", TMPDIR: "/tmp/work" });
  });

  it("leaves out variables that are unset or empty", () => {
    expect(scrubbedEnvironment("/w", { PATH: "/bin", LANG: "", TZ: undefined })).toEqual({ PATH: "/bin", HOME: "/w", TMPDIR: "/w" });
  });

  it("drops empty and relative PATH entries, which would resolve against the working directory", () => {
    expect(scrubbedEnvironment("/w", { PATH: ":.:bin:/usr/bin::./x:/bin:" }).PATH).toBe("/usr/bin:/bin");
  });

  it.each([undefined, "", ".:bin"])("falls back to the standard directories for PATH %j", (path) => {
    expect(scrubbedEnvironment("/w", { PATH: path }).PATH).toBe(fallbackPath);
  });
});

describe("inheritedVariables", () => {
  it("reads the pass-through variables of this process and nothing else", () => {
    for (const [name, value] of Object.entries(secrets)) vi.stubEnv(name, value);
    vi.stubEnv("LANG", "C.UTF-8");
    const inherited = inheritedVariables();
    expect(Object.keys(inherited).sort()).toEqual([...passedThroughVariables].sort());
    expect(inherited.LANG).toBe("C.UTF-8");
    expect(inherited.PATH).toBe(process.env.PATH);
    expect(JSON.stringify(scrubbedEnvironment("/w", inherited))).not.toMatch(/secret|password|s3cret|AccountKey/);
  });
});
