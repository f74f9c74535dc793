// The on-disk cache: .mps_lint_cache/ in the folder the run starts from (or --cache-dir).
//
//   facts/<xx>/<key>.json   ModuleFacts of one file, key = sha1(tool fingerprint, path, content sha1)
//   files-<tokens>.json     manifest: path -> mtime, ctime, size, inode, content sha1, prefilter
//                           verdict, decode warning; lets a warm run skip reading unchanged files
//   results/<key>.json      diagnostics of a whole run, key = sha1(tool fingerprint, settings,
//                           every file's path and content sha1)
//
// The tool fingerprint is the package version, FACTS_VERSION and the compiled sources' contents,
// so a rebuilt linter never reads what an older build wrote. Every file is written atomically
// (src/facts/cache-files.ts); two runs at once may both write an entry, with the same bytes. The
// manifest is merged with what is on disk just before it is replaced.
//
// Trust (docs/reliability.md, "The cache is untrusted input"): every entry is checked before use,
// its envelope and checksum (src/facts/cache-files.ts), then its shape (src/facts/cache-schema.ts);
// a facts entry must name the content hash of the file as this run knows it. An entry that fails
// is removed, rebuilt from the sources, and the run says so once (problems()). Fix edits are
// never taken from here for writing: --fix computes them from the files' current text
// (src/fix/fix.ts).

import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, rmSync, statSync, type Stats , mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FACTS_VERSION, type ModuleFacts } from "./model.js";
import { checkFacts, checkManifestEntry, checkResults } from "./cache-schema.js";
import { discardEntry, encodeEntry, factsEntryPath, factsEntryRel, readEntry, sha1, writeCacheFile } from "./cache-files.js";

export const CACHE_DIR_NAME = ".mps_lint_cache";

/** Manifest entry: mtimeMs, size, ino, sha1, relevant (0/1), decode warning, ctimeMs. */
export type ManifestEntry = [number, number, number, string, 0 | 1, string | null, number];

/**
 * A file modified (or its status changed) this recently may change again within the clock's
 * resolution: its stat is not remembered.
 */
const RACY_MS = 2000;

let fingerprintMemo: string | null = null;

/**
 * Package version + FACTS_VERSION + the compiled sources' contents (paths relative to their
 * folder): the same build gives the same key on any machine, in any install folder, whatever its
 * files' mtimes, so a cache restored in CI (docs/ci.md) is used; a changed build never reads
 * what another wrote.
 */
export function toolFingerprint(): string {
  if (fingerprintMemo) return fingerprintMemo;
  // The compiled code: dist/src (this module is dist/src/facts/cache.js) or dist/bundle.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const code = path.basename(here) === "facts" ? path.dirname(here) : here;
  let root = code;
  for (let i = 0; i < 4 && !safeExists(path.join(root, "package.json")); i++) root = path.dirname(root);
  let version = "";
  try {
    version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version ?? "";
  } catch {
    /* no version */
  }
  return (fingerprintMemo = fingerprintOf([code, path.join(code, "..", "rules")], version));
}

/** The fingerprint of the sources under these folders (contents and relative paths only). */
export function fingerprintOf(dirs: string[], version: string): string {
  const h = createHash("sha1");
  h.update(`facts ${FACTS_VERSION}\0${version}\0`);
  dirs.forEach((dir, d) => {
    for (const f of listFiles(dir)) {
      try {
        const bytes = readFileSync(f);
        h.update(`${d}\0${path.relative(dir, f)}\0${bytes.length}\0`);
        h.update(bytes);
      } catch {
        /* gone */
      }
    }
  });
  return h.digest("hex").slice(0, 16);
}

function safeExists(f: string): boolean {
  try {
    statSync(f);
    return true;
  } catch {
    return false;
  }
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(full));
    else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith(".d.ts")) out.push(full);
  }
  return out.sort();
}

/** What the manifest keeps of a file's stat. ctime too: setting mtime back (touch -d, utime) moves ctime. */
type StatLike = Pick<Stats, "mtimeMs" | "ctimeMs" | "size" | "ino">;

export class Cache {
  readonly keyPrefix: string;
  private manifest: Record<string, ManifestEntry> = {};
  private readonly updates: Record<string, ManifestEntry> = {};
  private readonly manifestFile: string;
  /** Entries refused this run: what and why (one warning for all, problems()). */
  private readonly refused: { file: string; why: string }[] = [];
  /** The files of the results key last made (resultsKey), for checking a results entry. */
  private resultsFiles = new Map<string, readonly { file: string; hash: string }[]>();

  constructor(
    readonly dir: string,
    tokensKey: string,
  ) {
    this.keyPrefix = toolFingerprint();
    this.manifestFile = path.join(dir, `files-${sha1(this.keyPrefix + tokensKey).slice(0, 12)}.json`);
    this.manifest = this.readManifest(true);
  }

  /** The manifest entry for a file, if its stat still matches. */
  lookup(file: string, st: StatLike): ManifestEntry | null {
    const e = Object.hasOwn(this.manifest, file) ? this.manifest[file] : undefined;
    if (!e || e[0] !== st.mtimeMs || e[1] !== st.size || e[2] !== st.ino || e[6] !== st.ctimeMs) return null;
    return e;
  }

  remember(file: string, st: StatLike, hash: string, relevant: boolean, warning: string | null): void {
    if (Date.now() - Math.max(st.mtimeMs, st.ctimeMs) < RACY_MS) return;
    const entry: ManifestEntry = [st.mtimeMs, st.size, st.ino, hash, relevant ? 1 : 0, warning, st.ctimeMs];
    this.updates[file] = entry;
    this.manifest[file] = entry;
  }

  factsPath(file: string, hash: string): string {
    return factsEntryPath(this.dir, this.keyPrefix, file, hash);
  }

  /** Is there an entry for these facts (without reading it)? */
  hasFacts(file: string, hash: string): boolean {
    try {
      return statSync(this.factsPath(file, hash)).isFile();
    } catch {
      return false;
    }
  }

  /** The facts stored for this file content, checked; null when there are none or they are refused. */
  loadFacts(file: string, hash: string): ModuleFacts | null {
    const at = this.factsPath(file, hash);
    const r = readEntry(at, hash);
    if ("absent" in r) return null;
    if ("invalid" in r) return this.refuse(at, r.invalid);
    let facts: unknown;
    try {
      facts = JSON.parse(r.data);
    } catch {
      return this.refuse(at, "not JSON");
    }
    const why = checkFacts(facts, file);
    return why ? this.refuse(at, why) : (facts as ModuleFacts);
  }

  /** The folder's .gitignore and CACHEDIR.TAG, written with its first entry of this run. */
  private marked = false;
  private mark(): void {
    if (this.marked) return;
    this.marked = true;
    try {
      mkdirSync(this.dir, { recursive: true });
      ensureMarkers(this.dir);
    } catch {
      /* read-only or full disk: the entries' own writes fail the same way, and are skipped */
    }
  }

  writeFacts(file: string, hash: string, json: string): void {
    try {
      this.mark();
      writeCacheFile(this.dir, factsEntryRel(this.keyPrefix, file, hash), encodeEntry(json, hash));
    } catch {
      /* read-only or full disk: run without */
    }
  }

  resultsKey(settings: unknown, files: { file: string; hash: string }[]): string {
    const h = createHash("sha1").update(this.keyPrefix).update("\0").update(JSON.stringify(settings));
    for (const f of files) h.update(`\0${f.file}\0${f.hash}`);
    const key = h.digest("hex");
    this.resultsFiles.set(key, files);
    return key;
  }

  /**
   * The results stored under `key` (made by resultsKey, whose files they must be about), checked:
   * their shape, and for each file whose findings carry a fix, that the file's bytes still have
   * the hash the analysis read (the entry's `read` list; a fix is shown only with the text it was
   * computed from).
   */
  readResults<T>(key: string): T | null {
    const at = path.join(this.dir, "results", `${key}.json`);
    const r = readEntry(at);
    if ("absent" in r) return null;
    if ("invalid" in r) return this.refuse(at, r.invalid);
    let value: unknown;
    try {
      value = JSON.parse(r.data);
    } catch {
      return this.refuse(at, "not JSON");
    }
    const files = this.resultsFiles.get(key);
    if (!files) return null;
    const why = checkResults(
      value,
      files.map((f) => f.file),
    );
    if (why) return this.refuse(at, why);
    const entry = value as { diagnostics: { file: string; fix: unknown }[]; read: [number, string][] };
    const withFix = new Set(entry.diagnostics.filter((d) => d.fix !== null).map((d) => d.file));
    const readHash = new Map(entry.read.map(([i, hash]) => [files[i].file, hash]));
    for (const f of files) {
      if (!withFix.has(f.file)) continue;
      let bytes: Buffer;
      try {
        bytes = readFileSync(f.file);
      } catch {
        return null;
      }
      // Not refused: the entry may be right for the contents the key names; this file changed since.
      if (sha1(bytes) !== readHash.get(f.file)) return null;
    }
    return value as T;
  }

  writeResults(key: string, value: unknown): void {
    try {
      this.mark();
      writeCacheFile(this.dir, path.join("results", `${key}.json`), encodeEntry(JSON.stringify(value)));
    } catch {
      /* no cache */
    }
  }

  /** Write the manifest: what is on disk now (if it is valid), plus this run's entries. */
  save(): void {
    if (Object.keys(this.updates).length === 0) return;
    try {
      ensureMarkers(this.dir);
      const current = this.readManifest(false);
      writeCacheFile(this.dir, path.basename(this.manifestFile), encodeEntry(JSON.stringify({ ...current, ...this.updates })));
    } catch {
      /* no cache */
    }
  }

  /**
   * Run warnings about the cache: one for all the entries refused this run, naming the cache
   * folder and the first entry, with why.
   */
  problems(): { file: string; message: string }[] {
    if (this.refused.length === 0) return [];
    const first = this.refused[0];
    const n = this.refused.length;
    const what = n === 1 ? "a cache entry was" : `${n} cache entries were`;
    return [{ file: this.dir, message: `${what} invalid and discarded (${path.relative(this.dir, first.file)}: ${first.why}); rebuilt from the sources` }];
  }

  private refuse(file: string, why: string): null {
    if (!this.refused.some((r) => r.file === file)) this.refused.push({ file, why });
    discardEntry(file);
    return null;
  }

  private readManifest(report: boolean): Record<string, ManifestEntry> {
    const r = readEntry(this.manifestFile);
    if ("absent" in r) return {};
    const bad = (why: string) => {
      if (report) this.refuse(this.manifestFile, why);
      return {};
    };
    if ("invalid" in r) return bad(r.invalid);
    let value: unknown;
    try {
      value = JSON.parse(r.data);
    } catch {
      return bad("not JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return bad("not an object");
    const out: Record<string, ManifestEntry> = Object.create(null);
    for (const [file, e] of Object.entries(value)) {
      if (!checkManifestEntry(e)) return bad(`the entry for ${JSON.stringify(file)} is malformed`);
      out[file] = e as ManifestEntry;
    }
    return out;
  }
}

/** A .gitignore that ignores the folder itself and a CACHEDIR.TAG, as ruff and pytest do. */
function ensureMarkers(dir: string): void {
  const gi = path.join(dir, ".gitignore");
  if (safeExists(gi)) return;
  writeCacheFile(dir, ".gitignore", "# Created by mps-lint\n*\n");
  writeCacheFile(dir, "CACHEDIR.TAG", "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by mps-lint.\n");
}

/**
 * `mps-lint clean`: remove the cache folder. Returns whether there was one. A run writing into it
 * at the same time does not make this fail: the folder is first renamed aside (one atomic step;
 * the run then writes a new one), and what is renamed is removed with retries.
 */
export function cleanCache(dir: string): boolean {
  let st: Stats;
  try {
    st = statSync(dir);
  } catch {
    return false;
  }
  if (!st.isDirectory()) {
    rmSync(dir, { force: true });
    return true;
  }
  const aside = `${dir}.removing-${process.pid}-${Date.now().toString(36)}`;
  let target = dir;
  try {
    renameSync(dir, aside);
    target = aside;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true; // another clean took it
    /* not renamable (a mount point, no write permission on the parent): remove in place */
  }
  for (let attempt = 0; ; attempt++) {
    try {
      rmSync(target, { recursive: true, force: true, maxRetries: 5, retryDelay: 20 });
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // ENOTEMPTY: a run wrote a new entry while this removed the folder (in place only).
      if (code !== "ENOTEMPTY" || attempt >= 20) throw e;
    }
  }
}
