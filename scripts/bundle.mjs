// Bundles the tsc output (dist/src, dist/rules) into dist/bundle/, which the `mps-lint` bin
// runs. Why: Node's start-up for a lint of one file was dominated by loading ~50 of our ESM
// files plus the dozens of yargs, chalk & co.; one minified file compiles in a fraction of that.
//
//   dist/bundle/bin.js       the bin: turns on Node's compile cache, then import()s cli.js
//   dist/bundle/cli.js       argument parsing (src/cli/args.ts: the option table, parsed by yargs)
//   dist/bundle/cli-main.js  the lint pipeline (src/pipeline.ts), import()ed by cli.js once argv is parsed
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
//
// `node scripts/bundle.mjs --standalone DIR` (npm run build:standalone writes standalone/, which is
// committed): the same entries, self-contained for routes that install nothing (the GitHub
// Action, the pre-commit hook, the Python wheel): web-tree-sitter is bundled in, its
// tree-sitter.wasm and the grammar's tree-sitter-python.wasm, node-types.json and grammar.json are
// copied beside the code (src/facts/parse.ts looks there first), a package.json gives the version
// and "type": "module", and `mps-lint` is a shell script that runs bin.js with the node on PATH.
// The native addon stays out: where none is installed next to it, the WebAssembly parser runs.
// No source maps, so the committed build is small and the same bytes from the same sources
// (test/adoption-standalone.test.ts rebuilds it and compares).
import { chmodSync, copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { build } from "esbuild";

const ROOT = path.resolve(import.meta.dirname, "..");
const standaloneAt = process.argv.indexOf("--standalone");
const STANDALONE = standaloneAt >= 0 ? path.resolve(process.argv[standaloneAt + 1] ?? "standalone") : null;
const OUT = STANDALONE ?? path.join(ROOT, "dist", "bundle");

// yargs' string-width (and cliui's) build an Intl.Segmenter and Unicode-property regexes (RGI
// emoji) at load time: ~20 ms of every start, for measuring help text. Printable ASCII needs
// none of it (width = length, as string-width's own fast path says); anything else loads the
// real module on first use (esbuild turns the require() into a lazy module init).
const lazyStringWidth = {
  name: "lazy-string-width",
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, async (args) => {
      if (args.pluginData === "real") return undefined;
      const real = await b.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: "real" });
      if (real.errors.length > 0) return { errors: real.errors };
      return { path: real.path, namespace: "lazy-string-width" };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy-string-width" }, (args) => ({
      resolveDir: path.dirname(args.path),
      contents: `let real;
export default function stringWidth(s, options) {
  if (typeof s === "string" && /^[\\x20-\\x7e]*$/.test(s)) return s.length;
  real ??= require(${JSON.stringify(args.path)}).default;
  return real(s, options);
}
`,
    }));
  },
};

// yargs finds "the main package" by cutting its own path at node_modules/, which inside the
// bundle is no node_modules/ path: it then lists the working folder and every folder above it
// looking for a package.json (a readdir of /tmp or a big repository on every run). Start from
// the bundle instead: dist/bundle -> dist -> our package.json.
const yargsMainFilename = {
  name: "yargs-main-filename",
  setup(b) {
    b.onLoad({ filter: /[\\/]yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, async (args) => {
      const { readFile } = await import("node:fs/promises");
      const text = await readFile(args.path, "utf8");
      const from = "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));";
      if (!text.includes(from)) {
        return { errors: [{ text: `yargs-main-filename: "${from}" not found in ${args.path} (yargs changed; update scripts/bundle.mjs)` }] };
      }
      return { contents: text.replace(from, "const mainFilename = __dirname;"), loader: "js" };
    });
  },
};

const ENTRIES = {
  bin: "dist/src/cli/bin.js",
  cli: "dist/src/cli/cli.js",
  "cli-main": "dist/src/pipeline.js",
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
      sourcemap: STANDALONE ? false : "linked",
      sourcesContent: false,
      external: STANDALONE ? ["tree-sitter", "tree-sitter-python"] : ["tree-sitter", "tree-sitter-python", "web-tree-sitter"],
      // The same bytes wherever it is built (no absolute paths in the output).
      ...(STANDALONE ? { legalComments: "none" } : {}),
      plugins: [siblingEntries(name), lazyStringWidth, yargsMainFilename],
      logLevel: "warning",
      // vscode-languageserver is CommonJS and require()s Node's modules, which an ESM bundle can
      // only do through a real require.
      ...(name === "server" ? { banner: { js: 'import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);' } } : {}),
    }),
  ),
);

if (STANDALONE) {
  const require = createRequire(import.meta.url);
  const asset = (from, name = path.basename(from)) => copyFileSync(from, path.join(OUT, name));
  asset(require.resolve("web-tree-sitter/tree-sitter.wasm"));
  asset(require.resolve("tree-sitter-python/tree-sitter-python.wasm"));
  asset(require.resolve("tree-sitter-python/src/node-types.json"));
  asset(require.resolve("tree-sitter-python/src/grammar.json"));
  const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
  const deps = ["web-tree-sitter", "tree-sitter-python"].map((d) => `${d} ${JSON.parse(readFileSync(path.join(ROOT, "node_modules", d, "package.json"), "utf8")).version}`);
  writeFileSync(
    path.join(OUT, "package.json"),
    JSON.stringify({ name: pkg.name, version: pkg.version, description: `${pkg.description} Self-contained build (scripts/bundle.mjs --standalone; ${deps.join(", ")}).`, license: pkg.license, type: "module", private: true, bin: { "mps-lint": "bin.js" } }, null, 2) + "\n",
  );
  writeFileSync(path.join(OUT, "mps-lint"), '#!/bin/sh\n# mps-lint, self-contained: the node on PATH (20.19 or newer) runs bin.js beside this script.\nexec node "$(dirname "$0")/bin.js" "$@"\n');
  chmodSync(path.join(OUT, "mps-lint"), 0o755);
  chmodSync(path.join(OUT, "bin.js"), 0o755);
}
