// Files -> ModuleFacts: read, decode and parse each file once. This is the stage a cache and
// worker threads make fast; everything after it works on facts alone.
//
// FactStore does it in two steps so that the engine can parse only what matters:
//   scan()     stat every file; read and hash those the cache manifest does not vouch for; run
//              the token prefilter (src/facts/prefilter.ts) over their bytes.
//   load(is)   facts for these files: from memory, from the cache, or parsed (in parallel by the
//              worker pool when there is enough to parse, else in this thread).
// collectFacts() keeps the old one-call form: every file, in order.

import { availableParallelism } from "node:os";
import { statSync, readFileSync } from "node:fs";
import { deserialize } from "node:v8";
import { isUtf8 } from "node:buffer";
import type { Cache, ManifestEntry } from "./cache.js";
import { hashBytes, hashText, runFactsJob, type FactsJobResult } from "./facts-job.js";
import type { ModuleFacts } from "./model.js";
import { ParserLoadError } from "./parse.js";
import type { Prefilter } from "./prefilter.js";
import { fsErrorText } from "../files/discover.js";
import { decodePython, readPython } from "../files/source.js";
import { addTime, count, setCount } from "../timing.js";
import { PARSER_ERROR, ParsePool, type Job } from "./workers/pool.js";

export interface FileProblem {
  file: string;
  message: string;
}

export interface Collected {
  facts: ModuleFacts[];
  problems: FileProblem[];
  /** Source text by file, read on demand (fixes, baselines) and kept once read. */
  source(file: string): string;
}

export interface CollectOptions {
  /** Source text to use instead of reading a file (stdin, tests). */
  overrides?: Map<string, string>;
  /** Parallel parse workers; 1 parses in this thread. Default: the machine's cores. */
  jobs?: number;
  cache?: Cache | null;
  /** Files the prefilter rejects are parsed only when loaded on demand. */
  prefilter?: Prefilter | null;
  /** Facts kept in memory between runs (the language server), consulted before the cache. */
  memo?: FactMemo | null;
  /** Where the run is, for a progress display (src/reporters/progress.ts). */
  progress?: (p: LintProgress) => void;
}

/**
 * What a long-lived process (the language server) keeps between runs: each file's last scan,
 * valid while its stat is unchanged, and its facts by content hash. FactStore reads it before
 * the disk cache and fills it as it loads, so an edit re-parses the edited file alone.
 */
export interface FactMemo {
  /** An earlier scan of this file, if its stat is still this one; `tokens`: the prefilter's (its verdict depends on them). */
  scanned(file: string, mtimeMs: number, size: number, ino: number, tokens: string): ManifestEntry | undefined;
  rememberScan(file: string, entry: ManifestEntry, tokens: string): void;
  facts(file: string, hash: string): ModuleFacts | undefined;
  keep(file: string, hash: string, facts: ModuleFacts): void;
}

/**
 * Where a run is: files scanned (stat, read, prefilter) of all; files kept up front made into facts
 * (parsed, or from the cache); the project model being built; modules checked by the rules (the
 * total grows as modules are loaded on demand).
 */
export interface LintProgress {
  phase: "scan" | "parse" | "index" | "check";
  done: number;
  total: number;
}

/** Below this much work, starting workers costs more than it saves. */
const MIN_PARALLEL_FILES = 8;
const MIN_PARALLEL_BYTES = 256 * 1024;

const COOKIE_HINT = /^[ \t\f]*#.*?coding[:=]/m;

export function defaultJobs(): number {
  return Math.max(1, availableParallelism());
}

export class FactStore {
  readonly relevant: boolean[];
  readonly hashes: string[];
  readonly sizes: number[];
  /** Problems by file index (read errors, decode warnings), reported in file order. */
  private readonly fileProblems: (FileProblem | null)[];
  private readonly facts: (ModuleFacts | undefined)[];
  private readonly unreadable: boolean[];
  /** Handed to prefetch() once (never twice). */
  private readonly queued: boolean[];
  private readonly sources = new Map<string, string>();
  /** One copy of each string in deserialized facts (see internStrings). */
  private readonly strings = new Map<string, string>();
  private pool: ParsePool | null = null;
  private poolTried = false;
  private scanned = false;
  private readonly jobs: number;

  constructor(
    readonly files: string[],
    private readonly options: CollectOptions = {},
  ) {
    const n = files.length;
    this.relevant = new Array(n).fill(true);
    this.hashes = new Array(n).fill("");
    this.sizes = new Array(n).fill(0);
    this.fileProblems = new Array(n).fill(null);
    this.facts = new Array(n).fill(undefined);
    this.unreadable = new Array(n).fill(false);
    this.queued = new Array(n).fill(false);
    this.jobs = Math.max(1, options.jobs ?? defaultJobs());
  }

  /** Stat, read what must be read, hash and prefilter. Needed before load() when a cache or prefilter is on. */
  scan(): void {
    if (this.scanned) return;
    this.scanned = true;
    const { cache, prefilter, overrides, memo, progress } = this.options;
    if (!cache && !prefilter) return;
    const tokens = prefilter ? prefilter.tokens.join("\0") : "";
    let readMs = 0;
    let filterMs = 0;
    let hits = 0;
    for (let i = 0; i < this.files.length; i++) {
      progress?.({ phase: "scan", done: i, total: this.files.length });
      const file = this.files[i];
      const override = overrides?.get(file);
      if (override !== undefined) {
        this.hashes[i] = hashText(override);
        this.sizes[i] = override.length;
        this.relevant[i] = prefilter ? prefilter.test(override) : true;
        continue;
      }
      const t0 = performance.now();
      let st;
      try {
        st = statSync(file);
      } catch (e) {
        this.markUnreadable(i, e);
        continue;
      }
      this.sizes[i] = st.size;
      const kept = memo?.scanned(file, st.mtimeMs, st.size, st.ino, tokens);
      const hit = kept ?? cache?.lookup(file, st);
      if (hit) {
        if (!kept) memo?.rememberScan(file, hit, tokens);
        hits++;
        this.hashes[i] = hit[3];
        this.relevant[i] = prefilter ? hit[4] === 1 : true;
        if (hit[5]) this.fileProblems[i] = { file, message: hit[5] };
        readMs += performance.now() - t0;
        continue;
      }
      let bytes: Buffer;
      try {
        bytes = readFileSync(file);
      } catch (e) {
        this.markUnreadable(i, e);
        continue;
      }
      this.hashes[i] = hashBytes(bytes);
      const warning = decodeWarning(bytes);
      if (warning) this.fileProblems[i] = { file, message: warning };
      const t1 = performance.now();
      readMs += t1 - t0;
      this.relevant[i] = prefilter ? prefilter.testBytes(bytes) : true;
      filterMs += performance.now() - t1;
      cache?.remember(file, st, this.hashes[i], this.relevant[i], warning);
      memo?.rememberScan(file, [st.mtimeMs, st.size, st.ino, this.hashes[i], this.relevant[i] ? 1 : 0, warning, st.ctimeMs], tokens);
    }
    addTime("read", readMs);
    addTime("prefilter", filterMs);
    count("manifestHits", hits);
  }

  private markUnreadable(i: number, e: unknown): void {
    this.unreadable[i] = true;
    this.relevant[i] = false;
    this.fileProblems[i] = { file: this.files[i], message: `cannot read: ${fsErrorText(e)}; not linted` };
  }

  get(i: number): ModuleFacts | undefined {
    return this.facts[i];
  }

  isLoaded(i: number): boolean {
    return this.facts[i] !== undefined || this.unreadable[i];
  }

  /** Make facts available for these files (skipping unreadable ones); `report`: as the "parse" phase of the progress. */
  load(indices: Iterable<number>, report = false): void {
    const { cache, overrides, memo } = this.options;
    const progress = report ? this.options.progress : undefined;
    const wanted = progress ? [...indices] : indices;
    const total = progress ? (wanted as number[]).filter((i) => !this.isLoaded(i)).length : 0;
    let done = 0;
    const todo: Job[] = [];
    // Files parsed ahead of need by the workers (prefetch) are taken from there.
    const results: (FactsJobResult & { i: number })[] = [];
    let cacheMs = 0;
    for (const i of wanted) {
      if (this.isLoaded(i)) continue;
      const kept = this.hashes[i] ? memo?.facts(this.files[i], this.hashes[i]) : undefined;
      if (kept) {
        this.facts[i] = kept;
        count("memo");
        progress?.({ phase: "parse", done: ++done, total });
        continue;
      }
      if (this.queued[i] && this.pool) {
        const r = this.pool.claim(i);
        if (r) {
          results.push(r);
          continue;
        }
      }
      const file = this.files[i];
      const text = overrides?.get(file);
      if (cache && text === undefined && this.hashes[i]) {
        const t0 = performance.now();
        const f = cache.loadFacts(file, this.hashes[i]);
        cacheMs += performance.now() - t0;
        if (f) {
          this.facts[i] = f;
          memo?.keep(file, this.hashes[i], f);
          count("cached");
          progress?.({ phase: "parse", done: ++done, total });
          continue;
        }
      }
      todo.push({ i, file, text, size: this.sizes[i] || text?.length || 0 });
    }
    addTime("cache", cacheMs);
    if (todo.length === 0 && results.length === 0) return;
    count("parsed", todo.length + results.length);
    if (results.length > 0) count("prefetchUsed", results.length);
    const bytes = todo.reduce((a, j) => a + j.size, 0);
    // Once the workers run, every parse goes to them, even one file asked for now: the native
    // parser's trees are freed by N-API finalizers, which run only when a thread's event loop
    // turns, and this thread's never does during the analysis (its trees would pile up, ~0.5 GB
    // on a large project). A worker's loop turns after each batch.
    const pool = this.pool ?? (todo.length >= MIN_PARALLEL_FILES || bytes >= MIN_PARALLEL_BYTES ? this.getPool() : null);
    const cacheDir = cache ? cache.dir : null;
    const prefix = cache ? cache.keyPrefix : "";
    const parsed = progress ? (k: number) => progress({ phase: "parse", done: done + results.length + k, total }) : undefined;
    if (pool) results.push(...pool.run(todo, parsed));
    else {
      for (const j of todo) {
        results.push({ i: j.i, ...runFactsJob(j.file, j.text, cacheDir, prefix, true) });
        parsed?.(0);
      }
    }
    let parseMs = 0;
    let factsMs = 0;
    for (const r of results) {
      parseMs += r.parseMs;
      factsMs += r.factsMs;
      if (r.error !== null) {
        if (r.error.startsWith(PARSER_ERROR)) throw new ParserLoadError(r.error.slice(PARSER_ERROR.length));
        this.unreadable[r.i] = true;
        this.fileProblems[r.i] = { file: this.files[r.i], message: r.error };
        continue;
      }
      if (r.warning && !this.fileProblems[r.i]) this.fileProblems[r.i] = { file: this.files[r.i], message: r.warning };
      this.facts[r.i] = r.facts ?? (r.packed ? internStrings(deserialize(r.packed) as ModuleFacts, this.strings) : internStrings(JSON.parse(r.json!) as ModuleFacts, this.strings));
      if (r.hash) this.hashes[r.i] = r.hash;
      if (this.hashes[r.i]) memo?.keep(this.files[r.i], this.hashes[r.i], this.facts[r.i]!);
    }
    addTime("parse", parseMs);
    addTime("facts", factsMs);
  }

  /**
   * Hand these files to the parse workers ahead of need (the analysis will likely ask for them):
   * parsed in the background while this thread analyses, taken by load() if asked, else
   * dropped. Needs workers (jobs > 1); files in the cache are left to load().
   */
  prefetch(indices: Iterable<number>): void {
    if (this.jobs <= 1) return;
    const { cache, overrides } = this.options;
    const jobs: Job[] = [];
    for (const i of indices) {
      if (this.isLoaded(i) || this.queued[i]) continue;
      this.queued[i] = true;
      const file = this.files[i];
      const text = overrides?.get(file);
      if (cache && text === undefined && this.hashes[i] && cache.hasFacts(file, this.hashes[i])) continue;
      if (this.hashes[i] && this.options.memo?.facts(file, this.hashes[i])) continue;
      jobs.push({ i, file, text, size: this.sizes[i] || text?.length || 0 });
    }
    if (jobs.length > 0) this.getPool()?.prefetch(jobs);
  }

  /** Let the workers take more prefetch work (cheap; call while analysing). */
  poll(): void {
    this.pool?.poll();
  }

  private getPool(): ParsePool | null {
    if (!this.poolTried) {
      this.poolTried = true;
      if (this.jobs > 1) {
        const cache = this.options.cache;
        this.pool = ParsePool.create(this.jobs, cache ? cache.dir : null, cache ? cache.keyPrefix : "");
      }
    }
    return this.pool;
  }

  /** Indices of loaded files, in file order. */
  loaded(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.files.length; i++) if (this.facts[i] !== undefined) out.push(i);
    return out;
  }

  problems(): FileProblem[] {
    return [...this.fileProblems.filter((p): p is FileProblem => p !== null), ...(this.options.cache?.problems() ?? [])];
  }

  source(file: string): string {
    let s = this.sources.get(file);
    if (s === undefined) {
      s = this.options.overrides?.get(file) ?? readPython(file).text;
      this.sources.set(file, s);
    }
    return s;
  }

  close(): void {
    if (this.pool) setCount("prefetchUnused", this.pool.unclaimed());
    this.pool?.close();
    this.pool = null;
  }
}

/** The warning decodePython would give, without decoding the common case (plain UTF-8, no cookie). */
function decodeWarning(bytes: Buffer): string | null {
  if (isUtf8(bytes) && !COOKIE_HINT.test(bytes.subarray(0, 400).toString("latin1"))) return null;
  return decodePython(bytes).warning;
}

export function collectFacts(files: string[], options: CollectOptions = {}): Collected {
  const store = new FactStore(files, options);
  try {
    store.scan();
    store.load(files.keys());
  } finally {
    store.close();
  }
  return {
    facts: store.loaded().map((i) => store.get(i)!),
    problems: store.problems(),
    source: (file) => store.source(file),
  };
}

/**
 * Replace each string in `value` (in place) by the first equal one seen: the v8 deserializer makes
 * a new string per occurrence, and facts repeat few distinct strings many times (an Expr's tag,
 * names): 5.6 million strings, 0.2 million distinct, on the bench corpus.
 */
function internStrings<T>(value: T, table: Map<string, string>): T {
  const canonical = (v: unknown): unknown => {
    if (typeof v === "string") {
      const s = table.get(v);
      if (s !== undefined) return s;
      table.set(v, v);
    } else if (v !== null && typeof v === "object") walk(v as Record<string, unknown>);
    return v;
  };
  const walk = (o: Record<string, unknown> | unknown[]): void => {
    if (Array.isArray(o)) for (let k = 0; k < o.length; k++) o[k] = canonical(o[k]);
    else for (const k in o) o[k] = canonical(o[k]);
  };
  walk(value as Record<string, unknown>);
  return value;
}
