// A parse worker: file paths in, ModuleFacts JSON out (each worker loads its own tree-sitter
// Parser, src/parse.ts). Results go back on this worker's port; the shared counter is bumped so
// a main thread blocked in Atomics.wait wakes up.

import { workerData, type MessagePort } from "node:worker_threads";
import { runFactsJob } from "../facts-job.js";
import { ParserLoadError } from "../parse.js";
import { PARSER_ERROR, type Batch, type WorkerData } from "./pool.js";

const data = workerData as WorkerData;
const port: MessagePort = data.port;
const signal = new Int32Array(data.signal);

// Loaded (the parser included, src/parse.ts loads it at import): the pool may now stop this
// thread safely. Stopping it while the native addon is still initializing aborts the process.
port.postMessage({ ready: true });
Atomics.add(signal, 0, 1);
Atomics.notify(signal, 0);

port.on("message", (batch: Batch) => {
  const results = batch.jobs.map((job) => {
    try {
      const r = runFactsJob(job.file, job.text, data.cacheDir, data.keyPrefix);
      return { i: job.i, ...r };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const error = e instanceof ParserLoadError ? `${PARSER_ERROR}${why}` : `internal error: ${why}`;
      return { i: job.i, json: null, hash: "", warning: null, error, parseMs: 0, factsMs: 0 };
    }
  });
  port.postMessage({ batch: batch.id, results });
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
