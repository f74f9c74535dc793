// npm run mutate: mutation testing of the semantic core (rules/, src/project/) with StrykerJS.
// Not part of npm test; docs/testing.md says how to read and narrow a run
// (npm run mutate -- --mutate 'src/project/threads.ts').
import os from "node:os";
import path from "node:path";

// scripts/mutate-device.sh runs disjoint groups of files as separate Stryker processes at once;
// each group (MPS_MUTATE_GROUP) keeps its own report, incremental file and sandboxes.
const group = process.env.MPS_MUTATE_GROUP;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  // The in-process tests only (see vitest.mutate.config.ts); `related`: a mutant's run is limited
  // to the test files that import the mutated file.
  vitest: { configFile: "vitest.mutate.config.ts", related: true },
  plugins: ["@stryker-mutator/vitest-runner", "./scripts/stryker-rule-docs-ignorer.mjs"],
  ignorers: ["rule-docs"],
  checkers: [],
  mutate: ["rules/**/*.ts", "src/project/**/*.ts"],
  coverageAnalysis: "perTest",
  // One test runner per logical core.
  concurrency: "100%",
  // Results of unchanged code whose covering tests are unchanged are reused from this committed
  // file; `npm run mutate:full` (--force) tests every mutant again and rewrites it.
  incremental: true,
  incrementalFile: group ? `reports/incremental-${group}.json` : "reports/stryker-incremental.json",
  // A mutant that loops forever is stopped after 1.5x its tests' time plus this; 60 s cost a worker
  // a minute for each such mutant (38 of them on the 16-core run).
  timeoutMS: 15000,
  reporters: ["clear-text", "progress-append-only", "json"],
  jsonReporter: { fileName: group ? `reports/mutation/${group}.json` : "reports/mutation/mutation.json" },
  ignorePatterns: ["dist", "reports", ".mps_lint_cache", "bench", "native-verify", "coverage", ".device"],
  // The sandboxes live outside the checkout: inside it they would sit in a folder the
  // repository's .gitignore names, and the tests that discover fixture folders the way the CLI
  // does (honouring .gitignore) would find nothing there.
  tempDirName: path.join(os.tmpdir(), group ? `mps-lint-stryker-${group}` : "mps-lint-stryker"),
  cleanTempDir: "always",
};
