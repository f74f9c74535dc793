// The tests `npm run mutate` (StrykerJS) runs against each mutant: the ones that exercise rules/
// and src/project/ in-process (fixtures, the project unit tests, the entry-point table,
// witness and spelling tests). The CLI tests run the built bundle (dist/), which a mutant of the sources never
// reaches, so running them would only cost time.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/fixtures.test.ts", "test/project/*.test.ts", "test/entrypoints-table.test.ts", "test/entrypoints-witness.test.ts", "test/fix-pairs-inprocess.test.ts", "test/entrypoints-spellings.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
