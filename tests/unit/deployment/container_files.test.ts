import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

/** The names of compose's top-level services, from the block under `services:`. */
function composeServices(compose: string): Map<string, string> {
  const services = new Map<string, string>();
  const block = compose.slice(compose.indexOf("\nservices:\n"), compose.indexOf("\nvolumes:\n"));
  let current: string | undefined;
  for (const line of block.split("\n")) {
    const name = /^ {2}([a-z-]+):\s*$/.exec(line)?.[1];
    if (name) {
      current = name;
      services.set(current, "");
    } else if (current && line.startsWith("    ")) services.set(current, `${services.get(current)}${line}\n`);
  }
  return services;
}

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");

  it("builds the bundle, then runs it on the Azure Functions Node.js 22 base image in a production and a development stage", () => {
    expect(dockerfile).toMatch(/^FROM node:22\S* AS build$/m);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(dockerfile).toMatch(/^FROM mcr\.microsoft\.com\/azure-functions\/node:4-node22 AS production$/m);
    expect(dockerfile).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
    expect(dockerfile).toMatch(/^FROM mcr\.microsoft\.com\/azure-functions\/node:4-node22 AS development$/m);
    expect(dockerfile).toMatch(/esbuild\.config\.mjs --watch/);
  });

  it("never ships local settings or node_modules from the build context", () => {
    const ignored = read(".dockerignore").split("\n");
    expect(ignored).toEqual(expect.arrayContaining(["node_modules", "dist", "local.settings.json"]));
  });
});

describe("docker-compose.yml", () => {
  const compose = read("docker-compose.yml");
  const services = composeServices(compose);

  it("has Redis, Azurite, Ollama with its model pull, and the app in both modes", () => {
    expect([...services.keys()]).toEqual(["redis", "azurite", "ollama", "ollama-pull", "app", "app-dev"]);
    expect(services.get("azurite")).toMatch(/--skipApiVersionCheck[\s\S]*--disableTelemetry/);
    expect(services.get("ollama-pull")).toMatch(/ollama", "pull"/);
  });

  it("switches the app between the built image and the mounted source by profile", () => {
    expect(services.get("app")).toMatch(/profiles: \["prod"\][\s\S]*target: production/);
    expect(services.get("app-dev")).toMatch(/profiles: \["dev"\][\s\S]*target: development[\s\S]*- \.:\/home\/site\/wwwroot/);
    expect(compose).toMatch(/docker compose --profile prod up --build/);
    expect(compose).toMatch(/docker compose --profile dev up/);
  });

  it("runs the app without caller authentication (AUTH_MODE none), so it publishes its port on the loopback only", () => {
    expect(compose).toMatch(/^x-app-settings: &app-settings\n(?: {2}.*\n)*? {2}AUTH_MODE: none\n/m);
    for (const name of ["app", "app-dev"]) {
      expect(services.get(name), name).toMatch(/environment: \*app-settings\n/);
      const ports = [...services.get(name)!.matchAll(/^ {6}- "([^"]+)"$/gm)].map((m) => m[1]);
      expect(ports, name).toEqual(["127.0.0.1:7071:80"]);
    }
  });

  it("points the app at the compose services and names no key but Azurite's published one", () => {
    expect(compose).toMatch(/REDIS_URL: redis:\/\/redis:6379/);
    expect(compose).toMatch(/TableEndpoint=http:\/\/azurite:10002\/devstoreaccount1/);
    const keys = [...compose.matchAll(/AccountKey=([^;]+);/g)].map((m) => m[1]);
    expect(new Set(keys)).toEqual(new Set(["Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="]));
  });
});
