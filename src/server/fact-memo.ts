// The language server's memory of facts between lints (FactMemo, src/facts/collect.ts): the last
// scan of each file (its stat, content hash, prefilter verdict and decode warning) and the facts of
// its last content. A lint after an edit stats every file, finds all but the edited one unchanged,
// and parses that one alone. One entry per file: an edited buffer replaces its older facts.

import type { ManifestEntry } from "../facts/cache.js";
import type { FactMemo } from "../facts/collect.js";
import type { ModuleFacts } from "../facts/model.js";

/** A file modified this recently may change again within the clock's resolution: its stat is not trusted (as the disk cache). */
const RACY_MS = 2000;

export class MemoryFacts implements FactMemo {
  private readonly scans = new Map<string, ManifestEntry>();
  private scanTokens = "";
  private readonly kept = new Map<string, { hash: string; facts: ModuleFacts }>();

  scanned(file: string, mtimeMs: number, size: number, ino: number, tokens: string): ManifestEntry | undefined {
    if (tokens !== this.scanTokens) return undefined;
    const e = this.scans.get(file);
    return e && e[0] === mtimeMs && e[1] === size && e[2] === ino ? e : undefined;
  }

  rememberScan(file: string, entry: ManifestEntry, tokens: string): void {
    if (tokens !== this.scanTokens) {
      // Other prefilter tokens (the configuration changed): the verdicts held are not theirs.
      this.scans.clear();
      this.scanTokens = tokens;
    }
    if (Date.now() - entry[0] < RACY_MS) this.scans.delete(file);
    else this.scans.set(file, entry);
  }

  facts(file: string, hash: string): ModuleFacts | undefined {
    const k = this.kept.get(file);
    return k && k.hash === hash ? k.facts : undefined;
  }

  keep(file: string, hash: string, facts: ModuleFacts): void {
    this.kept.set(file, { hash, facts });
  }

  /** Forget files no longer linted (deleted, excluded). */
  retain(files: ReadonlySet<string>): void {
    for (const f of this.kept.keys()) if (!files.has(f)) this.kept.delete(f);
    for (const f of this.scans.keys()) if (!files.has(f)) this.scans.delete(f);
  }

  get size(): number {
    return this.kept.size;
  }
}
