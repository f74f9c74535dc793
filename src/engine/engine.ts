// The lint pipeline for one run: files -> facts (collect) -> project -> rules -> results.
//
// With the prefilter on, only files that can hold a finding are parsed up front; when the
// project index looks up a module it lacks, that module is loaded and joins the index at once
// (demand loading, src/facts/prefilter.ts). The files kept up front are handed to the project in file
// order and the rest in the order the analysis asks for them, so results do not depend on how
// many workers parsed them or on what came from the cache.

import { collectFacts, FactStore, type FactMemo, type FileProblem, type LintProgress } from "../facts/collect.js";
import { Cache } from "../facts/cache.js";
import type { ModuleFacts } from "../facts/model.js";
import { DIRECTIVE_PATTERN, makePrefilter, type Prefilter } from "../facts/prefilter.js";
import path from "node:path";
import { aliasModuleNames, moduleNaming, resolveRelative, rootKey } from "../project/modules.js";
import { Project } from "../project/project.js";
import { ENTRY_POINT_TOKENS } from "../project/entrypoints.js";
import { toDiagnostic, type Rule, type RuleSettings } from "./rule.js";
import { addTime, count, loadReason, setCount, timed, withLoadReason } from "../timing.js";
import type { Diagnostic } from "../types.js";

export type { FactMemo, FileProblem, LintProgress } from "../facts/collect.js";

/** Thrown by lintFiles when `cancelled()` said so (a newer edit superseded the run). */
export class LintCancelled extends Error {}

export interface LintInput {
  files: string[];
  /** The rules to run (the caller chooses: rules/index.ts RULES, or a selection of them). */
  rules: readonly Rule[];
  settings?: RuleSettings;
  srcRoots?: string[];
  /** Folders whose relative paths also name modules (the linted roots, the working folder). */
  searchRoots?: string[];
  threadEntryPoints?: string[];
  /** Source text to use instead of reading a file (stdin, tests). */
  overrides?: Map<string, string>;
  /** Parse workers (1: parse in this thread). Default 1. */
  jobs?: number;
  /** Cache folder (src/facts/cache.ts), or none (default). */
  cacheDir?: string | null;
  /** Parse only files that can matter (src/facts/prefilter.ts). Default off. */
  prefilter?: boolean;
  /** Files parsed and analysed whatever the prefilter says (files named on the command line: their syntax errors are reported). */
  parseAlways?: ReadonlySet<string>;
  /**
   * Only these files' findings are wanted (files named one by one, linted inside their project).
   * When all of them are analysed from the start, the rules stop after the last of them: a
   * module's findings depend only on what was checked before it (module order), so theirs are
   * exactly a whole run's, and the rest of the project is not checked.
   */
  reportOnly?: ReadonlySet<string>;
  /** Facts kept in memory from earlier runs of this process (the language server). */
  memo?: FactMemo | null;
  /** Where the run is (a progress display). */
  progress?: (p: LintProgress) => void;
  /** Asked between stages and modules: true stops the run with LintCancelled. */
  cancelled?: () => boolean;
}

export interface LintStats {
  files: number;
  /** Files whose facts the analysis used. */
  analyzed: number;
  /** Files never parsed nor loaded. */
  skipped: number;
  /** Files loaded because the analysis asked for their modules (demand loading). */
  demandLoaded: number;
  /** The whole result came from the cache. */
  cachedResult: boolean;
}

export interface LintResult {
  diagnostics: Diagnostic[];
  files: string[];
  problems: FileProblem[];
  /**
   * Facts of the files analysed (suppression comments live here). With the prefilter, files
   * never parsed are left out: the prefilter parses every file that spells a directive of ours,
   * so the others have no directive comments.
   */
  facts: readonly ModuleFacts[];
  source(file: string): string;
  stats?: LintStats;
  /**
   * Files whose text (not only their facts) the rules read: comments, docstrings, a fix's
   * syntax. Absent when the result came from the cache. With it, an edit that keeps a file's
   * facts (positions aside) and that no rule read the text of cannot change a finding
   * (src/server/analysis.ts).
   */
  textRead?: ReadonlySet<string>;
}

/**
 * A run's result, cached under the inputs that decide which files the analysis reads (settings,
 * the file list, each file's prefilter verdict), with the content hashes of the files it did read.
 * The analysis is a function of the facts of the files it loads, and which files it loads is
 * decided by the facts it has already read and by module names (paths): so a change to a file it
 * never read, that keeps that file's prefilter verdict, cannot change the result (early cut-off),
 * and the entry stays valid. Any change to a file it read is a miss.
 */
interface CachedResult {
  diagnostics: Diagnostic[];
  analyzed: number;
  demandLoaded: number;
  /** Files whose directive comments the suppression stage needs: loaded (facts cache) on a hit. */
  commentFiles: number[];
  /** Every file the analysis read, as [index in the file list, content hash]. */
  read: [number, string][];
}

/** The cached result, when every file it read still has the content it had. */
function validResult(hit: CachedResult | null, hashes: readonly string[]): CachedResult | null {
  if (!hit || !Array.isArray(hit.read)) return null;
  for (const entry of hit.read) {
    if (!Array.isArray(entry) || hashes[entry[0]] !== entry[1]) return null;
  }
  return hit;
}

/**
 * The token prefilter for these rules (src/facts/prefilter.ts), or null when one of them names no
 * tokens: the spawn names, the framework entry points' (src/project/entrypoints.ts), each rule's
 * (RuleMeta.tokens) and the configured thread entry points'.
 */
export function prefilterFor(rules: readonly Rule[], threadEntryPoints: readonly string[] = []): Prefilter | null {
  return makePrefilter(rules.map((r) => r.meta.tokens), ENTRY_POINT_TOKENS, threadEntryPoints);
}

export function lintFiles(input: LintInput): LintResult {
  const rules = input.rules;
  if (!input.prefilter && !input.cacheDir && (input.jobs ?? 1) <= 1) return lintAll(input, rules);
  const prefilter = input.prefilter ? prefilterFor(rules, input.threadEntryPoints) : null;
  const cache = input.cacheDir ? new Cache(input.cacheDir, prefilter ? prefilter.tokens.join("\0") : "") : null;
  const store = new FactStore(input.files, { overrides: input.overrides, jobs: input.jobs ?? 1, cache, prefilter, memo: input.memo, progress: input.progress });
  try {
    store.scan();
    if (input.cancelled?.()) throw new LintCancelled("cancelled");
    const settingsKey = {
      rules: rules.map((r) => r.meta.code),
      settings: input.settings ?? {},
      srcRoots: input.srcRoots ?? [],
      searchRoots: input.searchRoots ?? [],
      threadEntryPoints: input.threadEntryPoints ?? [],
      prefilter: prefilter?.tokens ?? null,
      // Files parsed whatever the prefilter says change what is analysed (their syntax errors).
      ...(prefilter && input.parseAlways?.size ? { parseAlways: [...input.parseAlways].sort() } : {}),
    };
    const canCacheResult = !!cache && !input.overrides?.size && input.files.every((_, i) => store.hashes[i] !== "");
    // Keyed by what decides the files read; their contents are checked against the entry.
    const verdicts = input.files.map((file, i) => ({ file, hash: store.relevant[i] ? "+" : "-" }));
    const wholeKey = canCacheResult ? cache.resultsKey(settingsKey, verdicts) : "";
    // A run that checks only the named files keeps its result under a key that names them; a
    // whole run's result answers it too.
    const partial = prefilter && input.reportOnly ? namedFiles(input) : null;
    const resultsKey = canCacheResult && partial ? cache.resultsKey({ ...settingsKey, reportOnly: [...partial].sort() }, verdicts) : wholeKey;
    if (canCacheResult) {
      const hit = timed("cache", () =>
        validResult(cache.readResults<CachedResult>(wholeKey), store.hashes) ??
        (resultsKey !== wholeKey ? validResult(cache.readResults<CachedResult>(resultsKey), store.hashes) : null),
      );
      if (hit) {
        store.load(hit.commentFiles);
        cache.save();
        const stats = { files: input.files.length, analyzed: hit.analyzed, skipped: input.files.length - hit.analyzed, demandLoaded: hit.demandLoaded, cachedResult: true };
        recordStats(stats);
        const facts = store.loaded().map((i) => store.get(i)!);
        return { diagnostics: hit.diagnostics, files: input.files, problems: store.problems(), facts, source: (f) => store.source(f), stats };
      }
    }
    const ruleProblems: FileProblem[] = [];
    const { textRead, readText } = recordingReads((f) => store.source(f));
    const { diagnostics, demandLoaded } = prefilter ? analyzeOnDemand(store, input, rules, ruleProblems, partial, readText) : analyzeAll(store, input, rules, ruleProblems, readText);
    const loaded = store.loaded();
    const analyzed = loaded.length;
    if (canCacheResult) {
      // What the suppression stage reads on a hit: comments of files with findings, and files
      // that spell a directive of ours (unused-suppression, malformed directives).
      const withFindings = new Set(diagnostics.map((d) => d.file));
      const ours = new RegExp(DIRECTIVE_PATTERN);
      const commentFiles = loaded.filter((i) => {
        const f = store.get(i)!;
        return f.comments.length > 0 && (withFindings.has(f.file) || f.comments.some((c) => ours.test(c.text)));
      });
      const read = loaded.map((i): [number, string] => [i, store.hashes[i]]);
      timed("cache", () => cache.writeResults(resultsKey, { diagnostics, analyzed, demandLoaded, commentFiles, read } satisfies CachedResult));
    }
    cache?.save();
    const stats = { files: input.files.length, analyzed, skipped: input.files.length - analyzed, demandLoaded, cachedResult: false };
    recordStats(stats);
    const facts = loaded.map((i) => store.get(i)!);
    return { diagnostics, files: input.files, problems: [...store.problems(), ...ruleProblems], facts, source: (f) => store.source(f), stats, textRead };
  } finally {
    store.close();
  }
}

/** The named files of LintInput.reportOnly among the run's files, or null (none: a whole run). */
function namedFiles(input: LintInput): ReadonlySet<string> | null {
  const named = input.files.filter((f) => input.reportOnly!.has(f));
  return named.length > 0 ? new Set(named) : null;
}

function recordStats(s: LintStats): void {
  setCount("files", s.files);
  setCount("analyzed", s.analyzed);
  setCount("skipped", s.skipped);
  setCount("demandLoaded", s.demandLoaded);
  if (s.cachedResult) count("cachedResult");
}

/** A source function that notes each file whose text it gives (LintResult.textRead). */
function recordingReads(source: (file: string) => string): { textRead: Set<string>; readText: (file: string) => string } {
  const textRead = new Set<string>();
  return {
    textRead,
    readText: (f) => {
      textRead.add(f);
      return source(f);
    },
  };
}

/** The plain path: every file, parsed in this thread (library default). */
function lintAll(input: LintInput, rules: readonly Rule[]): LintResult {
  const collected = collectFacts(input.files, { overrides: input.overrides, jobs: 1 });
  const problems = [...collected.problems];
  const { textRead, readText } = recordingReads(collected.source);
  const diagnostics = analyze(collected.facts, input, rules, undefined, readText, problems);
  return { diagnostics, files: input.files, problems, facts: collected.facts, source: collected.source, textRead };
}

function analyzeAll(store: FactStore, input: LintInput, rules: readonly Rule[], problems: FileProblem[], source: (file: string) => string): { diagnostics: Diagnostic[]; demandLoaded: number } {
  store.load(input.files.keys(), true);
  const facts = store.loaded().map((i) => store.get(i)!);
  return { diagnostics: analyze(facts, input, rules, undefined, source, problems), demandLoaded: 0 };
}

/**
 * Demand loading: analyse the files the prefilter kept; whenever the project index looks up a
 * module it lacks, that module's files are loaded there and then (from the cache or parsed) and
 * join the index, so one pass sees everything it asked for and nothing is analysed twice. The
 * order of loading follows the analysis, which is the same whatever the workers or the cache.
 */
function analyzeOnDemand(
  store: FactStore,
  input: LintInput,
  rules: readonly Rule[],
  problems: FileProblem[],
  stopAfter: ReadonlySet<string> | null,
  source: (file: string) => string,
): { diagnostics: Diagnostic[]; demandLoaded: number } {
  const byModule = new Map<string, number[]>();
  timed("index", () => {
    input.files.forEach((file, i) => {
      for (const name of moduleNaming(file, input.srcRoots ?? [], input.searchRoots ?? []).keys) {
        const list = byModule.get(name);
        if (!list) byModule.set(name, [i]);
        else list.push(i);
      }
    });
  });
  // A folder a module puts on sys.path names the files below it (src/project/syspath.ts).
  const addSearchRoot = (dir: string) => {
    const below = dir + path.sep;
    input.files.forEach((file, i) => {
      if (!path.resolve(file).startsWith(below)) return;
      for (const name of aliasModuleNames(file, [dir])) {
        const list = byModule.get(name);
        if (!list) byModule.set(name, [i]);
        else if (!list.includes(i)) list.push(i);
      }
    });
  };
  const seeds: number[] = [];
  input.files.forEach((_, i) => {
    if (store.relevant[i] || input.parseAlways?.has(input.files[i])) seeds.push(i);
  });
  setCount("relevant", seeds.length);
  store.load(seeds, true);
  // What the analysis will likely ask for next: the project modules that loaded modules import.
  // The workers parse them in the background (prefetch) while this thread analyses.
  const prefetchImports = (files: Iterable<number>) => {
    const next: number[] = [];
    for (const i of files) {
      const f = store.get(i);
      if (!f) continue;
      const naming = moduleNaming(f.file, input.srcRoots ?? [], input.searchRoots ?? []);
      const isPackage = /^__init__\.pyi?$/.test(path.basename(f.file));
      const add = (name: string) => {
        for (const key of [rootKey(naming.root, name), name]) for (const j of byModule.get(key) ?? []) if (!store.isLoaded(j)) next.push(j);
      };
      const addImport = (level: number, module: string, member: string | null) => {
        const abs = resolveRelative(naming.name, isPackage, level, module);
        if (abs === null) return;
        add(abs);
        if (member) add(abs ? `${abs}.${member}` : member);
      };
      for (const scope of f.scopes) {
        for (const b of scope.bindings) if (b.value.t === "import") addImport(b.value.level, b.value.module, b.value.name);
        for (const star of scope.starImports) addImport(star.level, star.module, null);
      }
    }
    if (next.length > 0) store.prefetch(next);
  };
  prefetchImports(seeds);
  const loading = { ms: 0 };
  let demandLoaded = 0;
  const loadModule = (name: string): ModuleFacts[] => {
    // The project asks for modules all along its setup and the rules: a place to stop a superseded run.
    if (input.cancelled?.()) throw new LintCancelled("cancelled");
    store.poll();
    const wanted = (byModule.get(name) ?? []).filter((i) => !store.isLoaded(i));
    if (wanted.length === 0) return [];
    // Time spent here is loading (parse, facts, cache), not the analysis that asked.
    const t0 = performance.now();
    store.load(wanted);
    loading.ms += performance.now() - t0;
    const out: ModuleFacts[] = [];
    for (const i of wanted) {
      const f = store.get(i);
      if (f) out.push(f);
    }
    demandLoaded += out.length;
    if (out.length > 0) count(`load:${loadReason()}`, out.length);
    prefetchImports(wanted);
    return out;
  };
  const facts = store.loaded().map((i) => store.get(i)!);
  // Stop early only when every named file is analysed from the start (a seed: the prefilter kept
  // it or it is parsed whatever it says). One that is not, or failed to read, could be loaded and
  // checked after the stop: the loop must then run whole to stay exact.
  const stop = stopAfter && facts.filter((f) => stopAfter.has(f.file)).length === stopAfter.size ? stopAfter : undefined;
  const diagnostics = analyze(facts, input, rules, loadModule, source, problems, loading, addSearchRoot, stop);
  return { diagnostics, demandLoaded };
}

/** Project + rules over these facts (and any the project loads on demand while the rules run). */
function analyze(
  facts: ModuleFacts[],
  input: LintInput,
  rules: readonly Rule[],
  loadModule: ((name: string) => readonly ModuleFacts[]) | undefined,
  source: (file: string) => string,
  problems: FileProblem[],
  /** Time spent in loadModule so far (kept out of the analysis phases). */
  loading = { ms: 0 },
  onSearchRoot?: (dir: string) => void,
  /** Stop once the modules of these files are checked (LintInput.reportOnly). */
  stopAfter?: ReadonlySet<string>,
): Diagnostic[] {
  if (input.cancelled?.()) throw new LintCancelled("cancelled");
  input.progress?.({ phase: "index", done: 0, total: facts.length });
  const t0 = performance.now();
  const l0 = loading.ms;
  const project = withLoadReason("project setup", () =>
    new Project(facts, {
      srcRoots: input.srcRoots,
      searchRoots: input.searchRoots,
      threadEntryPoints: input.threadEntryPoints,
      loadModule,
      onSearchRoot,
    }),
  );
  const t1 = performance.now();
  const l1 = loading.ms;
  addTime("index", t1 - t0 - (l1 - l0));
  const diagnostics: Diagnostic[] = [];
  const given = facts.length;
  // Modules loaded while the rules run are appended to the index: check them too.
  const modules = project.index.modules;
  let toCheck = stopAfter?.size ?? -1;
  for (let m = 0; m < modules.length && toCheck !== 0; m++) {
    if (input.cancelled?.()) throw new LintCancelled("cancelled");
    input.progress?.({ phase: "check", done: m, total: modules.length });
    const f = modules[m];
    for (const rule of rules) {
      // One rule failing on one file must not lose the other files' (or rules') findings.
      try {
        // The load counts (timing report) name the rule, and whether it ran on a loaded module.
        const reason = m < given ? rule.meta.code : `${rule.meta.code} on a loaded module`;
        withLoadReason(reason, () => rule.check({
          m,
          facts: f,
          get source() {
            return source(f.file);
          },
          project,
          settings: input.settings ?? {},
          report: (r) => diagnostics.push(toDiagnostic(rule, f.file, r)),
        }));
      } catch (e) {
        if (e instanceof LintCancelled) throw e;
        problems.push({
          file: f.file,
          message: `internal error in ${rule.meta.code} (${rule.meta.name}): ${errorText(e)}; this file's ${rule.meta.code} findings may be incomplete`,
        });
      }
    }
    if (stopAfter?.has(f.file)) toCheck--;
  }
  diagnostics.sort(compareDiagnostics);
  addTime("rules", performance.now() - t1 - (loading.ms - l1));
  return diagnostics;
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.range.start.row - b.range.start.row ||
    a.range.start.column - b.range.start.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}
