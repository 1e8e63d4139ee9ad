import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

/**
 * The web console is served from dist/console at run time (functions/console.ts), so every
 * package of the app must carry it: the zip azd deploys (.funcignore decides what goes in) and the
 * container image (the build stage's dist/). Its sources in console/ stay out.
 */
describe("the web console in the deployment package", () => {
  const rules = read(".funcignore")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));

  /** A .gitignore-style rule that would leave out this path (enough of the syntax for the rules this file uses). */
  function excludes(rule: string, path: string): boolean {
    const pattern = rule.replace(/\/$/, "");
    const anchored = pattern.startsWith("/");
    const regex = new RegExp(
      `^${pattern
        .replace(/^\//, "")
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, "[^/]*")
        .replace(/\?/g, "[^/]")}(?:/|$)`,
    );
    const segments = path.split("/");
    if (anchored || pattern.includes("/")) return regex.test(path);
    return segments.some((_, index) => regex.test(segments.slice(index).join("/")));
  }
  const shipped = (path: string) => !rules.some((rule) => excludes(rule, path));

  it("ships the built page and its assets beside the bundle, and leaves the sources out", () => {
    for (const path of [
      "dist/console/index.html",
      "dist/console/assets/index-AbC123.js",
      "dist/console/assets/index-AbC123.css",
      "dist/console/assets/favicon-AbC123.svg",
      "dist/functions/main.js",
      "host.json",
      "package.json",
    ]) {
      expect(shipped(path), path).toBe(true);
    }
    for (const path of [
      "console/src/app.tsx",
      "console/index.html",
      "console/vite.config.ts",
      "src/console/console_assets.ts",
      "test-artifacts/console/chat-1280.png",
      "node_modules/preact/package.json",
    ]) {
      expect(shipped(path), path).toBe(false);
    }
  });

  it("is built by npm run build, before the bundle, in every place that packages the app", () => {
    const scripts = JSON.parse(read("package.json")).scripts as Record<string, string>;
    expect(scripts["build:console"]).toMatch(/^vite build --config console\/vite\.config\.ts$/);
    expect(scripts.build).toMatch(/^npm run -s build:console && /);
    expect(read("azure.yaml")).toMatch(/run: npm run build/);
    expect(read("Dockerfile")).toMatch(/^RUN npm run build$/m);
    expect(read("Dockerfile")).toMatch(/^COPY --from=build \/src\/dist \.\/dist$/m);
  });
});
