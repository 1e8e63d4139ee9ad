/**
 * The floor of the cold-start row (bench/bundle_import.ts): the least a Functions app can be —
 * one HTTP function registered with `@azure/functions`, nothing else — bundled with the app's
 * own esbuild settings (esbuild.config.mjs). What importing it costs, any app pays.
 */
import { app } from "@azure/functions";

app.setup({ enableHttpStream: true });

app.http("hello", {
  methods: ["GET"],
  route: "hello",
  authLevel: "anonymous",
  handler: async () => ({ jsonBody: { status: "success", result: "hello" } }),
});
