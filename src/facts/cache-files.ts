// Cache file layout and atomic writes (temp file in the same folder, then rename: a reader sees
// the old entry or the new one, never half of one; two runs writing the same entry both write
// the same bytes).

import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";

let counter = 0;

export function writeAtomic(file: string, data: string): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.tmp-${process.pid}-${process.hrtime.bigint().toString(36)}-${counter++}`);
  try {
    writeFileSync(tmp, data);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, data);
  }
  try {
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

export function factsEntryPath(cacheDir: string, keyPrefix: string, file: string, hash: string): string {
  const k = createHash("sha1").update(`${keyPrefix}\0${file}\0${hash}`).digest("hex");
  return path.join(cacheDir, "facts", k.slice(0, 2), `${k}.json`);
}
