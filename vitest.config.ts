import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 60_000,
    // Two cores: files run in parallel against the shared redis-server and Azurite, isolated by key prefix and session id.
    maxWorkers: 2,
    projects: [
      // The fast lane (npm run test:unit): one module at a time, no build, no Redis, no Azurite.
      { extends: true, test: { name: "unit", include: ["tests/unit/**/*.test.ts"] } },
      // Everything else runs against a real redis-server and Azurite, and the built bundle, started and built once by the global setup.
      {
        extends: true,
        test: { name: "integration", include: ["tests/**/*.test.ts"], exclude: ["tests/unit/**"], globalSetup: ["tests/support/global_setup.ts"] },
      },
    ],
  },
});
