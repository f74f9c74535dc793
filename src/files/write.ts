// Writing files so that a crash or a full disk never leaves a half-written one: write a
// temporary file beside the target, flush it, then rename over the target (keeping its mode).

import { closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, chmodSync } from "node:fs";
import path from "node:path";

export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  // Through a symbolic link: replace the file it points to, not the link itself.
  let file = path.resolve(target);
  try {
    file = realpathSync(file);
  } catch {
    /* a new file */
  }
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.mps-lint-${process.pid}-${Date.now()}.tmp`);
  let mode: number | undefined;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${target} is a folder`), { code: "EISDIR" });
    mode = st.mode & 0o7777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EISDIR") throw e;
    /* a new file */
  }
  const fd = openSync(tmp, "wx", mode ?? 0o644);
  try {
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
  closeSync(fd);
  if (mode !== undefined) chmodSync(tmp, mode);
  try {
    renameSync(tmp, file);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}
