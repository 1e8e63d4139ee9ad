/** `npm run plugin -- <command>`: entry point of the plugin CLI. */
import { pluginClasses } from "../../plugins/index.js";
import { ConfigError, loadConfig } from "../config/config.js";
import { createLogger } from "../logging/logger.js";
import { createServices } from "../services.js";
import { runCli } from "./cli.js";

async function main(): Promise<number> {
  const config = loadConfig(process.env);
  // Logs go to stderr so that stdout carries only the result.
  const logger = createLogger(config.logLevel === "info" ? "warn" : config.logLevel, (_level, line) => console.error(line));
  const services = createServices(config, { plugins: pluginClasses, storage: config.storage, logger });
  const stop = () => {
    interrupted = true;
    void services.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", stop).once("SIGTERM", stop);
  try {
    return await runCli(process.argv.slice(2), services, { out: (l) => console.log(l), err: (l) => console.error(l) });
  } finally {
    await services.close();
  }
}

/** Set on SIGINT/SIGTERM: the run that the shutdown stops then fails, but the exit code is the signal's. */
let interrupted = false;

main().then(
  (code) => process.exit(interrupted ? 130 : code),
  (error: unknown) => {
    console.error(error instanceof ConfigError ? error.message : `failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
