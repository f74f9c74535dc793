#!/usr/bin/env bash
# Packs what `npm run mutate` needs to run on another Linux x86-64 machine without Node or a
# registry: node itself (gzip) and a tarball of this checkout's tracked and untracked-not-ignored
# files with node_modules cut to what Stryker, vitest and the parser load (no ast-grep, no
# TypeScript beyond the one file Stryker's tsconfig step reads, native prebuilds for linux-x64
# only). Unpack and run there:
#   gzip -dc node.gz >/tmp/node; chmod +x /tmp/node; mkdir w; tar -C w -xzf mutate-bundle.tgz
#   cd w && /tmp/node node_modules/@stryker-mutator/core/bin/stryker.js run
# Usage: scripts/mutate-bundle.sh DEST_DIR   (writes DEST_DIR/node.gz, DEST_DIR/mutate-bundle.tgz)
set -euo pipefail
dest=${1:?usage: scripts/mutate-bundle.sh DEST_DIR}
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$dest"
dest=$(cd "$dest" && pwd)
stage=$(mktemp -d "${TMPDIR:-/tmp}/mps-lint-mutate-bundle-XXXXXX")
trap 'rm -rf "$stage"' EXIT
cd "$root"
git ls-files -co --exclude-standard -z | grep -zv '^bench/\|^native-verify/' | xargs -0 cp --parents -t "$stage"
mkdir "$stage/node_modules"
for d in node_modules/*; do
  case ${d#node_modules/} in
    @ast-grep | @types | @esbuild | esbuild | typescript | lightningcss* | ajv* | fast-check | vscode-*) continue ;;
  esac
  cp -r "$d" "$stage/node_modules/"
done
# Stryker's tsconfig preprocessor imports typescript; only its main file is read.
mkdir -p "$stage/node_modules/typescript/lib"
cp node_modules/typescript/package.json "$stage/node_modules/typescript/"
cp node_modules/typescript/lib/typescript.js "$stage/node_modules/typescript/lib/"
# Parser: sources and other platforms' prebuilds are not loaded.
rm -rf "$stage"/node_modules/tree-sitter/{src,vendor,build/Release/obj.target} "$stage"/node_modules/tree-sitter-python/src
find "$stage"/node_modules/tree-sitter*/prebuilds -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +
tar -C "$stage" -czf "$dest/mutate-bundle.tgz" .
gzip -9c "$(command -v node)" >"$dest/node.gz"
ls -l "$dest"
