// A parse worker: file paths in, ModuleFacts out (the cache's JSON, else v8-serialized) (each worker loads its own tree-sitter
// Parser, src/facts/parse.ts). Results go back on this worker's port; the shared counter is bumped so
// a main thread blocked in Atomics.wait wakes up. The worker's status words (protocol.ts) say which
// file it is on and whether it has exited, for the pool's liveness check (pool.ts): they are set up
// before anything else is loaded, so a worker that fails even while loading the parser is seen to
// have exited.

import { serialize } from "node:v8";
import { workerData, type MessagePort } from "node:worker_threads";
import { PARSER_ERROR, STATUS_CURRENT, STATUS_EXITED, STATUS_FIELDS, STATUS_FINISHED, STATUS_STARTED, type Batch, type WorkerData } from "./protocol.js";

const data = workerData as WorkerData;
const port: MessagePort = data.port;
const signal = new Int32Array(data.signal);
const status = new Int32Array(data.status);
const base = data.slot * STATUS_FIELDS;

function wake(): void {
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
}

process.on("exit", () => {
  Atomics.store(status, base + STATUS_EXITED, 1);
  wake();
});

const { collectGarbage, runFactsJob } = await import("../facts-job.js");

/** After a batch of this much source, the facts just handed over are collected at once. */
const LARGE_BATCH_CHARS = 1024 * 1024;
const { ParserLoadError } = await import("../parse.js");

// Loaded (the parser included, src/facts/parse.ts loads it at import): the pool may now stop this
// thread safely. Stopping it while the native addon is still initializing aborts the process.
port.postMessage({ ready: true });
wake();

port.on("message", (batch: Batch) => {
  const transfer: ArrayBuffer[] = [];
  const results = batch.jobs.map((job) => {
    Atomics.store(status, base + STATUS_CURRENT, job.i);
    Atomics.add(status, base + STATUS_STARTED, 1);
    try {
      const { facts, ...r } = runFactsJob(job.file, job.text, data.cacheDir, data.keyPrefix, true);
      if (!facts) return { i: job.i, ...r };
      // With the cache on, the JSON written to it goes to the main thread as it is: parsing it there
      // costs about half of deserializing v8's bytes, and serializing them is not needed. Measured on
      // dML cold (farm-bench, n=5 paired): CPU 0.965 [0.857-0.988], peak RSS 817 -> 673 MB.
      if (r.json !== null) return { i: job.i, ...r };
      // Without the cache, the v8 serializer: it keeps an Expr that several facts share as one object
      // (JSON would copy it into each), and the bytes move without a copy. They are read back when
      // the facts are taken (prefetched ones may never be).
      const packed = serialize(facts);
      const whole = packed.byteOffset === 0 && packed.byteLength === packed.buffer.byteLength;
      const bytes = whole ? packed : new Uint8Array(packed);
      transfer.push(bytes.buffer as ArrayBuffer);
      return { i: job.i, ...r, packed: bytes };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const error = e instanceof ParserLoadError ? `${PARSER_ERROR}${why}` : `internal error: ${why}`;
      return { i: job.i, json: null, hash: "", warning: null, error, parseMs: 0, factsMs: 0 };
    } finally {
      Atomics.add(status, base + STATUS_FINISHED, 1);
    }
  });
  // The facts of a large file are garbage here once serialized: free them before handing them
  // over, so that this thread's copy and the main thread's are never resident together.
  if (results.some((r) => ("packed" in r && r.packed ? r.packed.byteLength : (r.json?.length ?? 0)) >= LARGE_BATCH_CHARS)) collectGarbage();
  port.postMessage({ batch: batch.id, results }, transfer);
  wake();
});
