// The analysis thread of the language server: runs WorkspaceAnalysis (./analysis.ts) requests
// one at a time, off the thread that answers the editor. A request is superseded when the server
// posts a newer one: the server writes the newest request's id into a shared integer, which the
// lint reads between its stages and modules (it cannot read messages while it runs).
//
// In the bundle this code lives in dist/bundle/server.js, which the server starts again as this
// worker (with workerData.role); from tsc's output, dist/src/server/analysis-worker.js.

import os from "node:os";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import type { LintProgress } from "../facts/collect.js";
import { AnalysisCancelled, MemoAnalysis, type AnalysisResult, type WorkspaceAnalysis } from "./analysis.js";

export const WORKER_ROLE = "mps-lint-analysis";

export type ToWorker =
  | { type: "analyze"; id: number; root: string; overrides: [string, string][]; changed: string[] | null }
  | { type: "close" };

export type FromWorker =
  | { type: "progress"; id: number; progress: LintProgress }
  | { type: "done"; id: number; result: AnalysisResult; ms: number }
  | { type: "cancelled"; id: number }
  | { type: "failed"; id: number; message: string };

/** Progress messages at most this often (and at each new phase). */
const PROGRESS_MS = 50;

if (!isMainThread && parentPort && (workerData as { role?: string } | null)?.role === WORKER_ROLE) {
  serve(parentPort, new Int32Array((workerData as { latest: SharedArrayBuffer }).latest));
}

function serve(port: NonNullable<typeof parentPort>, latest: Int32Array): void {
  // Below the thread that answers the editor: on a busy machine a hover is not queued behind the
  // analysis. On Linux a thread's nice value is its own (setpriority on the calling thread, 0), and
  // the parse workers this thread starts inherit it; elsewhere it would lower the whole process.
  if (process.platform === "linux") {
    try {
      os.setPriority(0, Math.min(19, os.getPriority(0) + 5));
    } catch {
      /* not allowed: run at the same priority */
    }
  }
  let analysis: WorkspaceAnalysis | null = null;
  // The lint pipeline loads here, not in the server's thread.
  const ready = import("../pipeline.js").then((m) => (analysis = new MemoAnalysis(m.lintWorkspace)));
  const post = (m: FromWorker) => port.postMessage(m);
  let queue = Promise.resolve();
  port.on("message", (m: ToWorker) => {
    if (m.type === "close") {
      port.close();
      return;
    }
    // In order, each after the pipeline has loaded; a request still queued when a newer one came is
    // passed on all the same (its changes count) and stops at once.
    queue = queue.then(() => ready).then(() => {
      const cancelled = () => Atomics.load(latest, 0) > m.id;
      let phase = "";
      let sent = 0;
      const progress = (p: LintProgress) => {
        const t = performance.now();
        if (p.phase === phase && t - sent < PROGRESS_MS) return;
        phase = p.phase;
        sent = t;
        post({ type: "progress", id: m.id, progress: p });
      };
      const t0 = performance.now();
      try {
        const result = analysis!.analyze({ root: m.root, overrides: new Map(m.overrides), changed: m.changed }, { cancelled, progress });
        post({ type: "done", id: m.id, result, ms: performance.now() - t0 });
      } catch (e) {
        if (e instanceof AnalysisCancelled || cancelled()) post({ type: "cancelled", id: m.id });
        else post({ type: "failed", id: m.id, message: errorText(e) });
        return;
      }
      // Idle work (filling the memory after findings from the disk cache) until a request comes;
      // it changes no finding, and a failure only leaves the memory empty.
      try {
        analysis!.warmUp?.({ cancelled });
      } catch {
        /* cancelled by a request, or failed: the request's own analysis runs as usual */
      }
    }, (e: unknown) => post({ type: "failed", id: m.id, message: `the lint pipeline did not load: ${errorText(e)}` }));
  });
}

function errorText(e: unknown): string {
  return e instanceof Error ? (process.env.MPS_LINT_DEBUG ? (e.stack ?? e.message) : e.message) : String(e);
}
