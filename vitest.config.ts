import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/support/global_setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel against the shared redis-server and Azurite, isolated by key prefix and session id.
    maxWorkers: 2,
  },
});
