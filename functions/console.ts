import { ConsoleAssets, defaultConsoleDirectory } from "../src/console/console_assets.js";
import { consoleFileResponse } from "../src/console/console_response.js";
import { AppError } from "../src/errors/app_error.js";
import { definePublicHttpFunction } from "../src/http/http_function.js";

// Found and read on the first request, not when the app loads: the console costs the cold start nothing.
let assets: ConsoleAssets | undefined;
const consoleAssets = (): ConsoleAssets => (assets ??= new ConsoleAssets(defaultConsoleDirectory()));

/**
 * The web console: a page that loads without a token (like health, it shows no caller's data);
 * the API calls it makes carry the caller's token. Built by `npm run build` (console/ → dist/console).
 */
export const consolePage = definePublicHttpFunction({
  handler: async (request) => {
    const page = await consoleAssets().index();
    if (!page) throw new AppError("not_found", "the console is not built: run npm run build");
    return consoleFileResponse(page, "revalidate", request.headers);
  },
});

/** The console's scripts, styles and icon, by their content-hashed names. */
export const consoleAsset = definePublicHttpFunction({
  handler: async (request) => {
    const asset = await consoleAssets().asset(request.params.asset ?? "");
    if (!asset) throw new AppError("not_found", "no such console asset");
    return consoleFileResponse(asset, "immutable", request.headers);
  },
});
