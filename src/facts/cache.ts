// The on-disk cache: .mps_lint_cache/ in the folder the run starts from (or --cache-dir).
//
//   facts/<xx>/<key>.json   ModuleFacts of one file, key = sha1(tool fingerprint, path, content sha1)
//   files-<tokens>.json     manifest: path -> mtime, size, inode, content sha1, prefilter verdict,
//                           decode warning; lets a warm run skip reading unchanged files
//   results/<key>.json      diagnostics of a whole run, key = sha1(tool fingerprint, settings,
//                           every file's path and content sha1)
//
// The tool fingerprint is the package version, FACTS_VERSION and the size and mtime of the
// compiled sources, so a rebuilt linter never reads what an older build wrote. Every file is
// written atomically (src/facts/cache-files.ts); two runs at once may both write an entry, with the
// same bytes. The manifest is merged with what is on disk just before it is replaced.

import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FACTS_VERSION } from "./model.js";
import { factsEntryPath, writeAtomic } from "./cache-files.js";

export const CACHE_DIR_NAME = ".mps_lint_cache";

/** Manifest entry: mtimeMs, size, ino, sha1, relevant (0/1), decode warning. */
export type ManifestEntry = [number, number, number, string, 0 | 1, string | null];

/** A file modified this recently may change again within the clock's resolution: don't trust its stat. */
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

export class Cache {
  readonly keyPrefix: string;
  private manifest: Record<string, ManifestEntry> = {};
  private readonly updates: Record<string, ManifestEntry> = {};
  private readonly manifestFile: string;

  constructor(
    readonly dir: string,
    tokensKey: string,
  ) {
    this.keyPrefix = toolFingerprint();
    this.manifestFile = path.join(dir, `files-${createHash("sha1").update(this.keyPrefix + tokensKey).digest("hex").slice(0, 12)}.json`);
    this.manifest = readJson(this.manifestFile) ?? {};
  }

  /** The manifest entry for a file, if its stat still matches. */
  lookup(file: string, mtimeMs: number, size: number, ino: number): ManifestEntry | null {
    const e = this.manifest[file];
    if (!e || e[0] !== mtimeMs || e[1] !== size || e[2] !== ino) return null;
    return e;
  }

  remember(file: string, entry: ManifestEntry): void {
    if (Date.now() - entry[0] < RACY_MS) return;
    this.updates[file] = entry;
    this.manifest[file] = entry;
  }

  factsPath(file: string, hash: string): string {
    return factsEntryPath(this.dir, this.keyPrefix, file, hash);
  }

  /** Facts JSON stored for this file content, or null. */
  /** Is there an entry for these facts (without reading it)? */
  hasFacts(file: string, hash: string): boolean {
    return existsSync(this.factsPath(file, hash));
  }

  readFacts(file: string, hash: string): string | null {
    try {
      return readFileSync(this.factsPath(file, hash), "utf8");
    } catch {
      return null;
    }
  }

  writeFacts(file: string, hash: string, json: string): void {
    try {
      writeAtomic(this.factsPath(file, hash), json);
    } catch {
      /* read-only or full disk: run without */
    }
  }

  resultsKey(settings: unknown, files: { file: string; hash: string }[]): string {
    const h = createHash("sha1").update(this.keyPrefix).update("\0").update(JSON.stringify(settings));
    for (const f of files) h.update(`\0${f.file}\0${f.hash}`);
    return h.digest("hex");
  }

  readResults<T>(key: string): T | null {
    return readJson(path.join(this.dir, "results", `${key}.json`)) as T | null;
  }

  writeResults(key: string, value: unknown): void {
    try {
      writeAtomic(path.join(this.dir, "results", `${key}.json`), JSON.stringify(value));
    } catch {
      /* no cache */
    }
  }

  /** Write the manifest: what is on disk now, plus this run's entries. */
  save(): void {
    if (Object.keys(this.updates).length === 0) return;
    try {
      mkdirSync(this.dir, { recursive: true });
      ensureMarkers(this.dir);
      const current = readJson(this.manifestFile) ?? {};
      writeAtomic(this.manifestFile, JSON.stringify({ ...(current as object), ...this.updates }));
    } catch {
      /* no cache */
    }
  }
}

function readJson(file: string): Record<string, ManifestEntry> | null {
  try {
    const v = JSON.parse(readFileSync(file, "utf8"));
    return v && typeof v === "object" ? v : null;
  } catch {
    return null;
  }
}

/** A .gitignore that ignores the folder itself and a CACHEDIR.TAG, as ruff and pytest do. */
function ensureMarkers(dir: string): void {
  const gi = path.join(dir, ".gitignore");
  if (safeExists(gi)) return;
  writeFileSync(gi, "# Created by mps-lint\n*\n");
  writeFileSync(
    path.join(dir, "CACHEDIR.TAG"),
    "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by mps-lint.\n",
  );
}

/** `mps-lint clean`: remove the cache folder. Returns whether there was one. */
export function cleanCache(dir: string): boolean {
  const existed = safeExists(dir);
  rmSync(dir, { recursive: true, force: true });
  return existed;
}
