// The web console (console/ → dist/console), served by the app at /api/console: `npm run build:console`.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  // The page is /api/console and its files /api/console/assets/<name>-<hash>.<ext> (functions/console.ts).
  base: "/api/console/",
  // Preact's automatic JSX runtime, without a Babel-based plugin.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  publicDir: false,
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // Never inline a file as a data: URL: the Content-Security-Policy allows this origin only.
    assetsInlineLimit: 0,
    // One script, one stylesheet: modern browsers preload modules themselves.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  logLevel: "warn",
});
