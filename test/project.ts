// Throwaway projects on disk for CLI tests.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "mps-lint-eco-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** A device sync reached from a worker thread: one MPS001 at line 5 (col 5). */
export const BAD = `import threading
import torch

def finish():
    torch.mps.synchronize()

def worker(model, x):
    y = model(x)
    finish()
    return y

threading.Thread(target=worker, args=(None, None)).start()
`;

/** A worker publishing a device result unsynced: one MPS002 (a warning). */
export const WARN = `from concurrent.futures import ThreadPoolExecutor

def work(model, x):
    return model(x.to("mps"))

with ThreadPoolExecutor() as p:
    p.submit(work, None, None)
`;

export const GOOD = `import torch

def main(model, x):
    y = model(x)
    torch.mps.synchronize()
    return y
`;

export interface Finding {
  code: string;
  file: string;
  line: number;
}

export const key = (f: Finding) => `${f.file}:${f.line}:${f.code}`;
