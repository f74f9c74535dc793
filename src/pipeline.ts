// The lint pipeline and the rule documentation as one module: what the CLI (src/cli/cli.ts) loads
// only once the command line is parsed (--help, --version and usage errors need none of it), and
// what the language server's worker and `mps-lint trace` load to lint. One module, so the bundle
// (scripts/bundle.mjs) makes it one file, dist/bundle/cli-main.js, and the classes the CLI tests
// with instanceof exist once.

export { cacheDirFor, lintWorkspace, runLint, UsageError } from "./main.js";
export { cleanCache } from "./facts/cache.js";
export { ruleDocs } from "./docs/explain.js";
export { ParserLoadError, parserBackend, parserLoadError } from "./facts/parse.js";

import { ConfigError, withConfigDefaults } from "./config/config.js";
import { UsageError } from "./main.js";
import type { CliOptions } from "./config/cli-options.js";

/** The configuration's defaults for what the command line left unset (src/config/config.ts). */
export function configDefaults(opts: CliOptions, terminal: boolean): CliOptions {
  try {
    return withConfigDefaults(opts, terminal);
  } catch (e) {
    throw e instanceof ConfigError ? new UsageError(e.message) : e;
  }
}
