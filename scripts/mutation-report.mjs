#!/usr/bin/env node
// Mutation reports (StrykerJS JSON, mutation-testing-report schema), two uses:
//   node scripts/mutation-report.mjs summary REPORT.json [--survivors [PATH_PREFIX]]
//     the score per folder and per file (as Stryker computes it: detected = killed + timed out,
//     score = detected / (detected + survived + no coverage); ignored mutants are outside it),
//     and optionally each surviving or uncovered mutant with its source line;
//   node scripts/mutation-report.mjs pick IN.json OUT.json PATTERN[,PATTERN...]
//     the report cut to the files the patterns match (Stryker's report of a run narrowed with
//     --mutate also carries the files it read from the incremental file);
//   node scripts/mutation-report.mjs merge OUT.json IN1.json IN2.json ...
//     one report of runs over disjoint file sets (e.g. rules/ and src/project/ run apart on one
//     machine), usable as Stryker's incremental file: test ids are renumbered by (test file,
//     name), mutant ids made unique.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import picomatch from "picomatch";

const [cmd, ...args] = process.argv.slice(2);
const read = (f) => JSON.parse(readFileSync(f, "utf8"));

function counts(mutants) {
  const c = { Killed: 0, Timeout: 0, Survived: 0, NoCoverage: 0, Ignored: 0, other: 0 };
  for (const m of mutants) c[m.status in c ? m.status : "other"]++;
  const detected = c.Killed + c.Timeout;
  const valid = detected + c.Survived + c.NoCoverage;
  return { ...c, total: mutants.length, score: valid ? (100 * detected) / valid : NaN, covered: detected + c.Survived ? (100 * detected) / (detected + c.Survived) : NaN };
}

function row(name, c) {
  const pct = (x) => (Number.isNaN(x) ? "-" : `${x.toFixed(1)}%`);
  return `| ${name} | ${c.total} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.Ignored} | ${pct(c.score)} | ${pct(c.covered)} |`;
}

if (cmd === "summary") {
  const report = read(args[0]);
  const files = Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b));
  const byFolder = new Map();
  for (const [f, v] of files) {
    const folder = f.startsWith("rules/") ? "rules/" : path.dirname(f) + "/";
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), ...v.mutants]);
  }
  console.log("| Files | Mutants | Killed | Timed out | Survived | No coverage | Ignored | Score | Score (covered) |");
  console.log("|---|---|---|---|---|---|---|---|---|");
  console.log(row("**all**", counts(files.flatMap(([, v]) => v.mutants))));
  for (const [folder, ms] of byFolder) console.log(row(`**${folder}**`, counts(ms)));
  for (const [f, v] of files) console.log(row(f, counts(v.mutants)));
  const si = args.indexOf("--survivors");
  if (si >= 0) {
    const prefix = args[si + 1] ?? "";
    for (const [f, v] of files) {
      if (!f.startsWith(prefix)) continue;
      const lines = v.source.split("\n");
      for (const m of v.mutants.filter((m) => m.status === "Survived" || m.status === "NoCoverage").sort((a, b) => a.location.start.line - b.location.start.line)) {
        const l = m.location.start.line;
        console.log(`${f}:${l}:${m.location.start.column}-${m.location.end.line}:${m.location.end.column} ${m.status} ${m.mutatorName} -> ${JSON.stringify(m.replacement ?? "").slice(0, 60)} | ${lines[l - 1].trim().slice(0, 120)}`);
      }
    }
  }
} else if (cmd === "pick") {
  const [input, out, patterns] = args;
  const isPicked = picomatch(patterns.split(","));
  const r = read(input);
  r.files = Object.fromEntries(Object.entries(r.files).filter(([f]) => isPicked(f)));
  writeFileSync(out, JSON.stringify(r));
  console.log(`${out}: ${Object.keys(r.files).length} files, ${Object.values(r.files).reduce((n, f) => n + f.mutants.length, 0)} mutants`);
} else if (cmd === "merge") {
  const [out, ...inputs] = args;
  const merged = { ...read(inputs[0]), files: {}, testFiles: {} };
  const testIds = new Map(); // "file\0name" -> new id
  let nextMutant = 0;
  for (const input of inputs) {
    const r = read(input);
    const remap = new Map();
    for (const [file, tf] of Object.entries(r.testFiles ?? {})) {
      const target = (merged.testFiles[file] ??= { ...tf, tests: [] });
      for (const t of tf.tests) {
        const key = `${file}\0${t.name}`;
        if (!testIds.has(key)) {
          testIds.set(key, String(testIds.size));
          target.tests.push({ ...t, id: testIds.get(key) });
        }
        remap.set(t.id, testIds.get(key));
      }
    }
    const ids = (list) => list?.map((id) => remap.get(id) ?? id);
    for (const [file, fr] of Object.entries(r.files)) {
      if (merged.files[file]) throw new Error(`${file} is in more than one report`);
      merged.files[file] = { ...fr, mutants: fr.mutants.map((m) => ({ ...m, id: String(nextMutant++), coveredBy: ids(m.coveredBy), killedBy: ids(m.killedBy) })) };
    }
  }
  writeFileSync(out, JSON.stringify(merged));
  console.log(`${out}: ${Object.keys(merged.files).length} files, ${nextMutant} mutants, ${testIds.size} tests`);
} else {
  console.error("usage: mutation-report.mjs summary REPORT.json [--survivors [PREFIX]] | pick IN.json OUT.json PATTERNS | merge OUT.json IN.json...");
  process.exit(2);
}
