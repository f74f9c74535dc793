// The server's side of the analysis thread (./analysis-worker.ts): start it, hand it requests,
// supersede older ones, and get back results, progress or the news that a request was cancelled.

import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { LintProgress } from "../facts/collect.js";
import type { AnalysisRequest, AnalysisResult } from "./analysis.js";
import { WORKER_ROLE, type FromWorker, type ToWorker } from "./analysis-worker.js";

export type Outcome = { status: "done"; result: AnalysisResult; ms: number } | { status: "cancelled" } | { status: "failed"; message: string };

interface Pending {
  resolve: (o: Outcome) => void;
  onProgress?: (p: LintProgress) => void;
}

/** dist/src/server/analysis-worker.js next to this file (tsc), else this very file (the bundle, dist/bundle/server.js). */
function workerScript(): string {
  const here = fileURLToPath(import.meta.url);
  const sibling = path.join(path.dirname(here), "analysis-worker.js");
  return existsSync(sibling) ? sibling : here;
}

/** How long close() waits for a running analysis to stop before the thread is ended. */
const CLOSE_WAIT_MS = 5000;

export class AnalysisHost {
  private worker: Worker | null = null;
  private readonly latestBuffer = new SharedArrayBuffer(4);
  private readonly latest = new Int32Array(this.latestBuffer);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly onError: (message: string) => void) {}

  private start(): Worker {
    const worker = new Worker(workerScript(), { workerData: { role: WORKER_ROLE, latest: this.latestBuffer } });
    worker.on("message", (m: FromWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.type === "progress") {
        p.onProgress?.(m.progress);
        return;
      }
      this.pending.delete(m.id);
      p.resolve(m.type === "done" ? { status: "done", result: m.result, ms: m.ms } : m.type === "cancelled" ? { status: "cancelled" } : { status: "failed", message: m.message });
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = null;
      for (const [, p] of this.pending) p.resolve({ status: "failed", message: why });
      this.pending.clear();
    };
    worker.on("error", (e) => {
      this.onError(`analysis thread failed: ${e.message}`);
      lost(`analysis thread failed: ${e.message}`);
    });
    worker.on("exit", (code) => lost(`analysis thread exited (${code})`));
    return worker;
  }

  /**
   * Analyse; every earlier request still queued or running is cancelled (its outcome is
   * "cancelled", or "done" if it finished first).
   */
  analyze(request: AnalysisRequest, onProgress?: (p: LintProgress) => void): Promise<Outcome> {
    const id = this.nextId++;
    Atomics.store(this.latest, 0, id);
    this.worker ??= this.start();
    const message: ToWorker = { type: "analyze", id, root: request.root, overrides: [...request.overrides], changed: request.changed ? [...request.changed] : null };
    return new Promise((resolve) => {
      this.pending.set(id, { resolve, onProgress });
      this.worker!.postMessage(message);
    });
  }

  /** Cancel what runs, let the thread finish it (its parse workers must not be cut off mid-parse), then end it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    Atomics.store(this.latest, 0, 0x7fffffff);
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    worker.postMessage({ type: "close" } satisfies ToWorker);
    const timer = setTimeout(() => void worker.terminate(), CLOSE_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }
}
