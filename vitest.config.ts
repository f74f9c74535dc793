import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Temp folder for the run (removed afterwards) and CI's no-silent-skip check.
    globalSetup: ["test/global-setup.ts"],
    // Generous limits: a test that hangs fails instead of stalling CI; no test asserts speed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Removing the run's temp folder can take a while on a loaded machine.
    teardownTimeout: 120_000,
  },
});
