// A pool of parse workers behind a synchronous call: the main thread hands out batches of files
// and blocks in Atomics.wait until a worker reports, draining results with receiveMessageOnPort.
// The lint pipeline stays synchronous; only the parsing runs in parallel. Results are returned
// by file index, so the outcome never depends on which worker parsed what.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import type { FactsJobResult } from "../facts-job.js";

export interface Job {
  i: number;
  file: string;
  text?: string;
  /** Bytes, for balancing. */
  size: number;
}

export interface Batch {
  id: number;
  jobs: { i: number; file: string; text?: string }[];
}

export interface WorkerData {
  port: MessagePort;
  signal: SharedArrayBuffer;
  cacheDir: string | null;
  keyPrefix: string;
}

export type JobResult = FactsJobResult & { i: number };

/** Prefix of a result error that means the parser could not be loaded. */
export const PARSER_ERROR = "parser-load: ";

const BATCH_BYTES = 192 * 1024;
const BATCH_FILES = 24;
/** A worker that says nothing for this long is taken for dead. */
const STALL_MS = 60_000;

export function workerScript(): string | null {
  const here = fileURLToPath(import.meta.url);
  let script: string;
  if (here.endsWith(".ts")) {
    // Running from sources (vitest): use the compiled worker, built by `npm run build`.
    const root = path.resolve(path.dirname(here), "..", "..");
    script = path.join(root, "dist", "src", "workers", "worker.js");
  } else {
    // Next to this code: dist/src/workers/worker.js (tsc), or dist/bundle/worker.js when this
    // code runs inside the bundled CLI (dist/bundle/cli-main.js, scripts/bundle.mjs).
    script = path.join(path.dirname(here), "worker.js");
  }
  return existsSync(script) ? script : null;
}

interface Slot {
  worker: Worker;
  port: MessagePort;
  inFlight: number;
}

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly signal = new SharedArrayBuffer(4);
  private readonly counter = new Int32Array(this.signal);
  private nextBatch = 0;

  private constructor(
    private readonly script: string,
    private readonly size: number,
    private readonly cacheDir: string | null,
    private readonly keyPrefix: string,
  ) {}

  static create(size: number, cacheDir: string | null, keyPrefix: string): ParsePool | null {
    const script = workerScript();
    return script && size > 0 ? new ParsePool(script, size, cacheDir, keyPrefix) : null;
  }

  private start(n: number): void {
    while (this.slots.length < Math.min(n, this.size)) {
      const { port1, port2 } = new MessageChannel();
      const data: WorkerData = { port: port2, signal: this.signal, cacheDir: this.cacheDir, keyPrefix: this.keyPrefix };
      const worker = new Worker(this.script, { workerData: data, transferList: [port2] });
      worker.unref();
      port1.unref();
      this.slots.push({ worker, port: port1, inFlight: 0 });
    }
  }

  /** Parse the jobs in parallel; results in the order of `jobs`. */
  run(jobs: Job[]): JobResult[] {
    if (jobs.length === 0) return [];
    // Largest first, cut into batches: a long file starts early and the tail stays short.
    const sorted = [...jobs].sort((a, b) => b.size - a.size || a.i - b.i);
    const batches: Batch[] = [];
    let cur: Batch | null = null;
    let bytes = 0;
    for (const j of sorted) {
      if (!cur || bytes >= BATCH_BYTES || cur.jobs.length >= BATCH_FILES) {
        cur = { id: this.nextBatch++, jobs: [] };
        batches.push(cur);
        bytes = 0;
      }
      cur.jobs.push(j.text === undefined ? { i: j.i, file: j.file } : { i: j.i, file: j.file, text: j.text });
      bytes += j.size;
    }
    this.start(batches.length);
    const results = new Map<number, JobResult>();
    let next = 0;
    const feed = (slot: Slot) => {
      while (slot.inFlight < 2 && next < batches.length) {
        slot.port.postMessage(batches[next++]);
        slot.inFlight++;
      }
    };
    for (const s of this.slots) feed(s);
    let lastProgress = Date.now();
    while (results.size < jobs.length) {
      const seen = Atomics.load(this.counter, 0);
      let got = false;
      for (const slot of this.slots) {
        for (let msg = receiveMessageOnPort(slot.port); msg; msg = receiveMessageOnPort(slot.port)) {
          const { results: rs } = msg.message as { batch: number; results: JobResult[] };
          for (const r of rs) results.set(r.i, r);
          slot.inFlight--;
          got = true;
          feed(slot);
        }
      }
      if (got) {
        lastProgress = Date.now();
        continue;
      }
      if (Date.now() - lastProgress > STALL_MS) throw new Error("parse workers stopped answering");
      Atomics.wait(this.counter, 0, seen, 1000);
    }
    return jobs.map((j) => results.get(j.i)!);
  }

  close(): void {
    for (const s of this.slots) {
      s.port.close();
      void s.worker.terminate();
    }
    this.slots.length = 0;
  }
}
