// One file -> ModuleFacts JSON: read, hash, decode, parse, extract, optionally store in the
// cache. Shared by parse workers and the in-process path, so both give the same bytes.

import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { readFileSync } from "node:fs";
import { extractFacts } from "./extract.js";
import type { ModuleFacts } from "./model.js";
import { parseStats } from "./parse.js";
import { fsErrorText } from "../files/discover.js";
import { decodePython } from "../files/source.js";
import { encodeEntry, factsEntryRel, writeCacheFile } from "./cache-files.js";

export interface FactsJobResult {
  json: string | null;
  /** The facts themselves, when asked for (in-process runs skip the JSON round trip). */
  facts?: ModuleFacts;
  /** The facts as v8.serialize wrote them (a worker's answer; see src/facts/workers/worker.ts). */
  packed?: Uint8Array;
  hash: string;
  warning: string | null;
  error: string | null;
  parseMs: number;
  factsMs: number;
}

export function hashBytes(bytes: Uint8Array | string): string {
  return createHash("sha1").update(bytes).digest("hex");
}

export function runFactsJob(
  file: string,
  text: string | undefined,
  cacheDir: string | null,
  keyPrefix: string,
  keepObject = false,
): FactsJobResult {
  let source: string;
  let hash: string;
  let warning: string | null = null;
  if (text !== undefined) {
    source = text;
    hash = hashBytes(text);
  } else {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      return { json: null, hash: "", warning: null, error: `cannot read: ${fsErrorText(e)}; not linted`, parseMs: 0, factsMs: 0 };
    }
    hash = hashBytes(bytes);
    const src = decodePython(bytes);
    source = src.text;
    warning = src.warning;
  }
  const p0 = parseStats.ms;
  const t0 = performance.now();
  let facts: ModuleFacts;
  try {
    facts = extractFacts(file, source);
  } catch (e) {
    // An internal error on one file must not lose the others' findings.
    const why = e instanceof Error ? e.message : String(e);
    return { json: null, hash, warning, error: `internal error while analysing this file (${why}); not linted`, parseMs: 0, factsMs: 0 };
  }
  const store = !!cacheDir && text === undefined;
  const json = store || !keepObject ? JSON.stringify(facts) : null;
  const total = performance.now() - t0;
  const parseMs = parseStats.ms - p0;
  if (store && json !== null && cacheDir) {
    try {
      writeCacheFile(cacheDir, factsEntryRel(keyPrefix, file, hash), encodeEntry(json, hash));
    } catch {
      /* a cache that cannot be written is no cache */
    }
  }
  notePressure(source.length);
  return { json, facts: keepObject ? facts : undefined, hash, warning, error: null, parseMs, factsMs: total - parseMs };
}

// tree-sitter trees live in native memory the GC does not see, so it runs too seldom for them:
// collect every few megabytes parsed to keep the resident size flat.
let gcFn: (() => void) | null | undefined;
let sinceGc = 0;
function notePressure(chars: number): void {
  sinceGc += chars;
  if (sinceGc < 8e6) return;
  sinceGc = 0;
  if (gcFn === undefined) {
    try {
      setFlagsFromString("--expose-gc");
      gcFn = runInNewContext("gc") as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}
