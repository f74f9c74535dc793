#!/usr/bin/env bash
# Puts the two public projects the GPU sitting of issue 28 traces under .trace-gpu/ (ignored by
# git: never committed), from the mirrors the `fetch` tool made:
#   .trace-gpu/dml       dropbox/dML 6fd0df5, metal_mps_parallel/{tests,examples} only (~2 MB)
#   .trace-gpu/gpt-fast  pytorch-labs/gpt-fast 32971d3, whole (~0.2 MB)
# Usage: bash scripts/trace-gpu-prepare.sh [MIRRORS]   (MIRRORS default /work/.mirror)
set -euo pipefail
cd "$(dirname "$0")/.."
M=${1:-/work/.mirror}
grep -qx '/.trace-gpu/' .git/info/exclude 2>/dev/null || echo '/.trace-gpu/' >> "$(git rev-parse --git-path info/exclude)"
rm -rf .trace-gpu && mkdir -p .trace-gpu/dml .trace-gpu/gpt-fast
git --git-dir="$M/dropbox+dML/repo" archive 6fd0df5 metal_mps_parallel/tests metal_mps_parallel/examples | tar -x -C .trace-gpu/dml
git --git-dir="$M/pytorch-labs+gpt-fast/repo" archive 32971d3 | tar -x -C .trace-gpu/gpt-fast
du -sh .trace-gpu/dml .trace-gpu/gpt-fast
