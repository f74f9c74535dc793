#!/usr/bin/env node
// npm run bench:parsers: the two parser backends (src/facts/parse.ts) side by side on the same files.
//
//   1. In one process per backend: load time (the import of the parser module, which loads the
//      backend), tree-sitter's parse, and extraction (copying the tree through the cursor,
//      src/facts/tree.ts, then the extractor), summed over the corpus; peak RSS.
//   2. The facts of every file, compared byte for byte between backends (a difference is printed
//      and makes the exit status 1).
//   3. The CLI end to end (dist/bundle/bin.js, --no-cache): the corpus, and one file.
//
// Backends alternate run by run so that load from other work on the machine hits both alike;
// figures are medians. Writes bench/parsers.md.
//
// Options (env): BENCH_RUNS=n runs per figure (default 3); BENCH_CORPUS=dir[:dir...] (default:
// Debian torch's sources, /usr/lib/python3/dist-packages/torch).

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const CLI = path.join(ROOT, "dist", "bundle", "bin.js");
const BACKENDS = ["native", "wasm"];
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const CORPUS = (process.env.BENCH_CORPUS ?? "/usr/lib/python3/dist-packages/torch").split(":");
const ONE_FILE = "/usr/lib/python3/dist-packages/torch/utils/data/dataloader.py";

function pythonFiles(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) pythonFiles(p, out);
    else if (e.isFile() && e.name.endsWith(".py")) out.push(p);
  }
  return out;
}

// ---- child: one backend, every file ------------------------------------------------------------
if (process.argv[2] === "--child") {
  const [, , , listFile, wantFacts] = process.argv;
  const files = readFileSync(listFile, "utf8").split("\n").filter(Boolean);
  const t0 = performance.now();
  const parse = await import(pathToFileURL(path.join(ROOT, "dist", "src", "facts", "parse.js")).href);
  const loadMs = performance.now() - t0;
  const { extractFacts } = await import(pathToFileURL(path.join(ROOT, "dist", "src", "facts", "extract.js")).href);
  const backend = parse.parserBackend();
  let totalMs = 0;
  const hashes = {};
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    const t = performance.now();
    const facts = extractFacts(f, text);
    totalMs += performance.now() - t;
    if (wantFacts === "1") hashes[f] = createHash("sha1").update(JSON.stringify(facts)).digest("hex");
  }
  const parseMs = parse.parseStats.ms;
  process.stdout.write(
    JSON.stringify({ backend, loadMs, parseMs, extractMs: totalMs - parseMs, rssMB: process.resourceUsage().maxRSS / 1024, hashes }),
  );
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------------------
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const fmt = (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(0)} ms`);
const log = (s) => process.stderr.write(s + "\n");

const files = CORPUS.flatMap((d) => pythonFiles(d)).sort();
const bytes = files.reduce((a, f) => a + statSync(f).size, 0);
const listFile = path.join(ROOT, "dist", "bench-parsers-files.txt");
writeFileSync(listFile, files.join("\n"));
log(`corpus: ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);

function child(backend, wantFacts) {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--child", listFile, wantFacts ? "1" : "0"], {
    env: { ...process.env, MPS_LINT_PARSER: backend },
    encoding: "utf8",
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${backend} child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function cli(backend, args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args, "--timing"], { env: { ...process.env, MPS_LINT_PARSER: backend }, encoding: "utf8", maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (r.status !== 0 && r.status !== 1) throw new Error(`${backend} CLI failed (${r.status}): ${r.stderr}`);
  // --timing's JSON (the last line of stderr) holds the process's peak RSS, workers included.
  const timing = JSON.parse(r.stderr.trim().split("\n").at(-1));
  return { ms, rssMB: timing.counts.maxRssKB / 1024, out: r.stdout };
}

// Facts, once per backend.
const facts = {};
for (const b of BACKENDS) facts[b] = child(b, true);
let differ = 0;
for (const f of files) {
  if (facts.native.hashes[f] !== facts.wasm.hashes[f]) {
    differ++;
    if (differ <= 10) log(`facts differ: ${f}`);
  }
}
log(`facts: ${files.length - differ}/${files.length} files identical`);

const inProc = Object.fromEntries(BACKENDS.map((b) => [b, []]));
const cliCorpus = Object.fromEntries(BACKENDS.map((b) => [b, []]));
const cliRss = Object.fromEntries(BACKENDS.map((b) => [b, []]));
const cliOne = Object.fromEntries(BACKENDS.map((b) => [b, []]));
const findings = {};
for (let run = 0; run < RUNS; run++) {
  for (const b of run % 2 ? [...BACKENDS].reverse() : BACKENDS) {
    inProc[b].push(child(b, false));
    const c = cli(b, [...CORPUS, "--no-cache", "-f", "json"]);
    cliCorpus[b].push(c.ms);
    cliRss[b].push(c.rssMB);
    findings[b] = c.out;
    cliOne[b].push(cli(b, [ONE_FILE, "--no-cache", "-f", "json"]).ms);
    log(`run ${run + 1}/${RUNS} ${b}: in-process ${fmt(inProc[b].at(-1).parseMs + inProc[b].at(-1).extractMs)}, CLI ${fmt(cliCorpus[b].at(-1))}`);
  }
}
const sameFindings = findings.native === findings.wasm;

const row = (b) => {
  const m = (k) => median(inProc[b].map((r) => r[k]));
  return `| ${b} | ${fmt(m("loadMs"))} | ${fmt(m("parseMs"))} | ${fmt(m("extractMs"))} | ${m("rssMB").toFixed(0)} MB | ${fmt(median(cliCorpus[b]))} | ${median(cliRss[b]).toFixed(0)} MB | ${fmt(median(cliOne[b]))} |`;
};
const load = (await import("node:os")).loadavg()[0].toFixed(1);
const md = `# Parser backends (npm run bench:parsers)

${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GB,
load average ${load} at the end (the machine is shared). Corpus: ${CORPUS.join(", ")} (${files.length} files,
${(bytes / 1e6).toFixed(1)} MB). Medians of ${RUNS} runs, backends alternating.

| backend | load | parse (sum) | extraction (sum) | peak RSS (in-process) | CLI, corpus, --no-cache | CLI peak RSS | CLI, one file |
|---|---|---|---|---|---|---|---|
${BACKENDS.map(row).join("\n")}

Facts identical on ${files.length - differ} of ${files.length} files; CLI findings (JSON) ${sameFindings ? "identical" : "DIFFERENT"}.
"load" is the import of src/facts/parse.ts, which loads the backend; "extraction" is the cursor copy of
the tree plus the extractor. The CLI columns are wall time of the bundled bin, workers included.
`;
writeFileSync(path.join(ROOT, "bench", "parsers.md"), md);
process.stdout.write(md);
process.exit(differ === 0 && sameFindings ? 0 : 1);
