// Cache files: layout, the entry envelope, reading them as untrusted input, atomic writes.
//
// Every entry is one JSON object, `{"mps-lint-cache":1,"about":"<sha1>","check":"<sha1>","data":...}`:
// `about` is the SHA-1 of the source file the entry describes (facts; forty zeros for entries that
// describe no one file), `check` the SHA-1 of the `data` text exactly as written. A reader accepts
// an entry only if the envelope is intact, `about` is the content hash it expects and `check`
// matches: a truncated, garbled or stale entry is refused before any of it is parsed.
//
// Only regular files under a size cap are read, opened without blocking and without following a
// final symbolic link (a FIFO, a device, a link to /dev/zero are refused, never waited on).
//
// Writes go to a temporary file in the same folder, then rename: a reader sees the old entry or the
// new one, never half of one; two runs writing the same entry both write the same bytes. Folders
// inside the cache are checked to be real folders (not links) before anything is written there.

import { createHash } from "node:crypto";
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The largest cache file read (an entry larger than this is refused). */
export const ENTRY_MAX_BYTES = 256 * 1024 * 1024;

const NO_FILE = "0".repeat(40);
const HEAD = '{"mps-lint-cache":1,"about":"';
const CHECK = '","check":"';
const DATA = '","data":';
const PREFIX_LENGTH = HEAD.length + 40 + CHECK.length + 40 + DATA.length;
const HEX40 = /^[0-9a-f]{40}$/;

export function sha1(text: string | Uint8Array): string {
  return createHash("sha1").update(text).digest("hex");
}

/** The bytes of an entry whose data is `json` (a JSON text), about the file with content hash `about`. */
export function encodeEntry(json: string, about: string = NO_FILE): string {
  return `${HEAD}${about}${CHECK}${sha1(json)}${DATA}${json}}`;
}

export type EntryRead = { data: string } | { absent: true } | { invalid: string };

/**
 * Read and check an entry; `about` is the content hash the reader expects it to describe. Returns
 * the data text (not yet parsed), `absent`, or why it is refused.
 */
export function readEntry(file: string, about: string = NO_FILE, cap = ENTRY_MAX_BYTES): EntryRead {
  const r = readRegular(file, cap);
  if ("absent" in r || "invalid" in r) return r;
  const text = r.text;
  if (text.length < PREFIX_LENGTH + 1 || !text.startsWith(HEAD) || !text.endsWith("}")) return { invalid: "not a cache entry (truncated or garbled)" };
  const got = text.slice(HEAD.length, HEAD.length + 40);
  const check = text.slice(HEAD.length + 40 + CHECK.length, HEAD.length + 80 + CHECK.length);
  if (text.slice(HEAD.length + 40, HEAD.length + 40 + CHECK.length) !== CHECK || text.slice(HEAD.length + 80 + CHECK.length, PREFIX_LENGTH) !== DATA) {
    return { invalid: "not a cache entry (truncated or garbled)" };
  }
  if (!HEX40.test(got) || !HEX40.test(check)) return { invalid: "not a cache entry (truncated or garbled)" };
  if (got !== about) return { invalid: "describes other contents than the file has now" };
  const data = text.slice(PREFIX_LENGTH, -1);
  if (sha1(data) !== check) return { invalid: "its checksum does not match (truncated or garbled)" };
  return { data };
}

export type RegularRead = { text: string } | { absent: true } | { invalid: string };

/** A regular file's text, read without blocking (a FIFO or a device is refused) and only under `cap` bytes. */
export function readRegular(file: string, cap: number): RegularRead {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOFOLLOW ?? 0));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return { absent: true };
    if (code === "ELOOP" || code === "EMLINK") return { invalid: "a symbolic link, not a cache file" };
    return { invalid: `cannot be read (${code ?? String(e)})` };
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return { invalid: "not a regular file" };
    if (st.size > cap) return { invalid: `${(st.size / 1048576).toFixed(0)} MB, over the ${(cap / 1048576).toFixed(0)} MB a cache file may have` };
    const buf = Buffer.allocUnsafe(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, null);
      if (n === 0) break;
      off += n;
    }
    return { text: buf.toString("utf8", 0, off) };
  } catch (e) {
    return { invalid: `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  } finally {
    closeSync(fd);
  }
}

/** Remove a refused entry (a link is removed, not what it points to). */
export function discardEntry(file: string): void {
  try {
    rmSync(file, { force: true, recursive: true });
  } catch {
    /* gone, or not ours to remove: it is refused again next time */
  }
}

let counter = 0;

export function writeAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${process.pid}-${process.hrtime.bigint().toString(36)}-${counter++}`);
  try {
    writeFileSync(tmp, data, { flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data, { flag: "wx" });
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

const checkedDirs = new Set<string>();

/**
 * Write `data` to `root/rel` atomically, creating the folders between, each checked to be a real
 * folder: a cache whose `facts` or `results` was replaced by a link to elsewhere is not written
 * through (throws; callers run without the cache then).
 */
export function writeCacheFile(root: string, rel: string, data: string): void {
  const parts = rel.split(/[\\/]/);
  let dir = root;
  for (const part of parts.slice(0, -1)) {
    dir = path.join(dir, part);
    if (checkedDirs.has(dir)) continue;
    try {
      const st = lstatSync(dir);
      if (!st.isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: "ENOTDIR" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      if (!lstatSync(dir).isDirectory()) throw Object.assign(new Error(`${dir} is not a folder`), { code: "ENOTDIR" });
    }
    checkedDirs.add(dir);
  }
  try {
    writeAtomic(path.join(root, rel), data);
  } catch (e) {
    // A folder removed meanwhile (`mps-lint clean`): check and create it again next time.
    for (let d = path.dirname(path.join(root, rel)); d.length > root.length; d = path.dirname(d)) checkedDirs.delete(d);
    throw e;
  }
}

/** Where the facts of this file content live, relative to the cache folder. */
export function factsEntryRel(keyPrefix: string, file: string, hash: string): string {
  const k = sha1(`${keyPrefix}\0${file}\0${hash}`);
  return path.join("facts", k.slice(0, 2), `${k}.json`);
}

export function factsEntryPath(cacheDir: string, keyPrefix: string, file: string, hash: string): string {
  return path.join(cacheDir, factsEntryRel(keyPrefix, file, hash));
}
