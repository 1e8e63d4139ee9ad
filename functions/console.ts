import { z } from "zod";
import { assetNamePattern, ConsoleAssets, defaultConsoleDirectory } from "../src/console/console_assets.js";
import { consoleFileResponse } from "../src/console/console_response.js";
import { AppError } from "../src/errors/app_error.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";
import { patternField } from "../src/http/request_fields.js";

// Found and read on the first request, not when the app loads: the console costs the cold start nothing.
let assets: ConsoleAssets | undefined;
const consoleAssets = (): ConsoleAssets => (assets ??= new ConsoleAssets(defaultConsoleDirectory()));

/**
 * The web console: a page that loads without a token (like health, it shows no caller's data);
 * the API calls it makes carry the caller's token. Built by `npm run build` (console/ → dist/console).
 */
export const consolePage = definePublicHttpFunction({
  operationId: "console",
  summary: "The web console: a page for trying the plugins, chatting and reading a session's timeline (it calls this API)",
  responses: {
    200: { description: "The page (`Cache-Control: no-cache`, a strict `Content-Security-Policy`).", content: { "text/html": "The page." } },
    304: { description: "The page has not changed (`If-None-Match`)." },
  },
  errors: ["not_found"],
  handler: async ({ request }) => {
    const page = await consoleAssets().index();
    if (!page) throw new AppError("not_found", "the console is not built: run npm run build");
    return consoleFileResponse(page, "revalidate", request.headers);
  },
});

/** The console's scripts, styles and icon, by their content-hashed names. */
export const consoleAsset = definePublicHttpFunction({
  operationId: "consoleAsset",
  summary: "A script, stylesheet or icon of the web console, by its content-hashed name",
  request: {
    // A name no built file can have is as unknown as a missing one.
    params: z.object({
      asset: patternField(assetNamePattern, "not_found", "no such console asset").meta({
        description: "A file name the console's page refers to, such as `index-<hash>.js`.",
      }),
    }),
  },
  responses: {
    200: {
      description: "The file, cached for a year (`immutable`: its name changes with its content).",
      content: { "text/javascript": "A script.", "text/css": "A stylesheet.", "image/svg+xml": "An icon." },
    },
    304: { description: "The file has not changed (`If-None-Match`)." },
  },
  errors: ["not_found"],
  handler: async ({ params, request }) => {
    const asset = await consoleAssets().asset(params.asset);
    if (!asset) throw new AppError("not_found", "no such console asset");
    return consoleFileResponse(asset, "immutable", request.headers);
  },
});
