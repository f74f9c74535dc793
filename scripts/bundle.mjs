// Bundles the tsc output (dist/src, dist/rules) into dist/bundle/, which the `mps-lint` bin
// runs. Why: Node's start-up for a lint of one file was dominated by loading ~50 of our ESM
// files plus the dozens of chalk & co.; one minified file compiles in a fraction of that.
//
//   dist/bundle/bin.js       the bin: turns on Node's compile cache, then import()s cli.js
//   dist/bundle/cli.js       argument parsing (src/cli/args.ts: the option table and a strict parser)
//   dist/bundle/cli-main.js  the lint pipeline, import()ed by cli.js once argv is parsed
//                            (--help and --version never load it)
//   dist/bundle/verify.js    --verify and bench, import()ed only for them
//   dist/bundle/server.js    `mps-lint server` (LSP), import()ed only for it
//   dist/bundle/worker.js    the parse worker (src/facts/workers/pool.ts looks for worker.js next to
//                            itself, so the bundled pipeline starts the bundled worker)
//
// Each is its own self-contained build, and an import of one of the others stays an import of
// that file: fewer files to load than esbuild's code splitting gives (its shared chunks cost
// more than they save here), and a class tested with instanceof (UsageError, ParserLoadError)
// lives in one file only. tree-sitter, tree-sitter-python and web-tree-sitter stay external: the
// native addons are loaded with require(), and the WebAssembly binding finds its .wasm next to itself.
// Bundling tsc's output keeps tsc's emit the one semantics.
import { rmSync } from "node:fs";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const OUT = path.join(ROOT, "dist", "bundle");

const ENTRIES = {
  bin: "dist/src/cli/bin.js",
  cli: "dist/src/cli/cli.js",
  "cli-main": "dist/src/cli/cli-main.js",
  verify: "dist/src/verify/index.js",
  trace: "dist/src/trace/index.js",
  worker: "dist/src/facts/workers/worker.js",
  server: "dist/src/server/index.js",
};
const entryOf = new Map(Object.entries(ENTRIES).map(([name, file]) => [path.join(ROOT, file), name]));

/** In the build of `self`, an import of another entry's module becomes an import of its file. */
const siblingEntries = (self) => ({
  name: "sibling-entries",
  setup(b) {
    b.onResolve({ filter: /^\./ }, (args) => {
      const name = entryOf.get(path.resolve(args.resolveDir, args.path));
      return name && name !== self ? { path: `./${name}.js`, external: true } : undefined;
    });
  },
});

rmSync(OUT, { recursive: true, force: true });
await Promise.all(
  Object.entries(ENTRIES).map(([name, file]) =>
    build({
      absWorkingDir: ROOT,
      entryPoints: { [name]: file },
      outdir: OUT,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      minify: true,
      // For `node --enable-source-maps` stack traces; src/ is not in the package, so no copies.
      sourcemap: "linked",
      sourcesContent: false,
      external: ["tree-sitter", "tree-sitter-python", "web-tree-sitter"],
      plugins: [siblingEntries(name)],
      logLevel: "warning",
      // vscode-languageserver is CommonJS and require()s Node's modules, which an ESM bundle can
      // only do through a real require.
      ...(name === "server" ? { banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' } } : {}),
    }),
  ),
);
