// One file -> ModuleFacts JSON: read, hash, decode, parse, extract, optionally store in the
// cache. Shared by parse workers and the in-process path, so both give the same bytes.

import { createHash } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { closeSync, fstatSync, openSync, readFileSync } from "node:fs";
import { totalmem } from "node:os";
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

/**
 * Parsing and extracting a file takes about 200 bytes of memory per byte of source (measured: a
 * 10 MB generated module, 1.8 GB resident with one thread, 2.9 GB with parse workers). A file that
 * would take more than a quarter of the machine's memory is not parsed: the default limit is
 * memory / 1000 (23 MB on a 23 GB machine, 8 MB on an 8 GB laptop); MPS_LINT_MAX_FILE_SIZE (bytes,
 * or with a K/M/G suffix) sets another.
 */
export const BYTES_PER_SOURCE_BYTE = 1000;

export interface FileSizeLimit {
  bytes: number;
  /** How it was chosen, for the warning. */
  why: string;
}

let limitMemo: FileSizeLimit | undefined;

export function fileSizeLimit(env: NodeJS.ProcessEnv = process.env): FileSizeLimit {
  if (env === process.env && limitMemo) return limitMemo;
  let limit: FileSizeLimit;
  const set = parseSize(env.MPS_LINT_MAX_FILE_SIZE);
  if (set !== null) limit = { bytes: set, why: "MPS_LINT_MAX_FILE_SIZE" };
  else {
    const constrained = typeof process.constrainedMemory === "function" ? process.constrainedMemory() : 0;
    const memory = constrained && constrained > 0 ? Math.min(constrained, totalmem()) : totalmem();
    limit = { bytes: Math.floor(memory / BYTES_PER_SOURCE_BYTE), why: `sized to this machine's ${formatBytes(memory)} of memory; MPS_LINT_MAX_FILE_SIZE sets another` };
  }
  if (env === process.env) limitMemo = limit;
  return limit;
}

function parseSize(v: string | undefined): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*$/i.exec(v ?? "");
  if (!m) return null;
  const n = Number(m[1]) * 1024 ** " kmg".indexOf((m[2] || " ").toLowerCase());
  return n > 0 ? Math.floor(n) : null;
}

export function formatBytes(n: number): string {
  return n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(1)} GB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : `${(n / 1024).toFixed(0)} KB`;
}

function tooLarge(size: number): string | null {
  const limit = fileSizeLimit();
  return size > limit.bytes ? `${formatBytes(size)}, over the per-file limit of ${formatBytes(limit.bytes)} (${limit.why}); not linted` : null;
}

export function hashBytes(bytes: Uint8Array | string): string {
  return createHash("sha1").update(bytes).digest("hex");
}

/**
 * The content hash of a text given as text (an editor's buffer): its UTF-8 bytes' hash, which is
 * the hash of a file holding those bytes, unless such a file would be read as another text (a
 * BOM is dropped, a coding cookie names another encoding): then a hash no file's bytes have, so
 * that facts kept for the file are not taken for the text, nor the other way round.
 */
export function hashText(text: string): string {
  const bytes = Buffer.from(text, "utf8");
  return decodePython(bytes).text === text ? hashBytes(bytes) : `text:${hashBytes(bytes)}`;
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
    hash = hashText(text);
    const big = tooLarge(Buffer.byteLength(text));
    if (big) return { json: null, hash, warning: null, error: big, parseMs: 0, factsMs: 0 };
  } else {
    let bytes: Buffer;
    try {
      const fd = openSync(file, "r");
      try {
        const big = tooLarge(fstatSync(fd).size);
        if (big) return { json: null, hash: "", warning: null, error: big, parseMs: 0, factsMs: 0 };
        bytes = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
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
  collectGarbage();
}

/** A full collection now (a worker, after handing over a large file's facts: they are garbage there). */
export function collectGarbage(): void {
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
