// A parse worker: file paths in, ModuleFacts out (v8-serialized) (each worker loads its own tree-sitter
// Parser, src/facts/parse.ts). Results go back on this worker's port; the shared counter is bumped so
// a main thread blocked in Atomics.wait wakes up.

import { serialize } from "node:v8";
import { workerData, type MessagePort } from "node:worker_threads";
import { runFactsJob } from "../facts-job.js";
import { ParserLoadError } from "../parse.js";
import { PARSER_ERROR, type Batch, type WorkerData } from "./pool.js";

const data = workerData as WorkerData;
const port: MessagePort = data.port;
const signal = new Int32Array(data.signal);

// Loaded (the parser included, src/facts/parse.ts loads it at import): the pool may now stop this
// thread safely. Stopping it while the native addon is still initializing aborts the process.
port.postMessage({ ready: true });
Atomics.add(signal, 0, 1);
Atomics.notify(signal, 0);

port.on("message", (batch: Batch) => {
  const transfer: ArrayBuffer[] = [];
  const results = batch.jobs.map((job) => {
    try {
      const { facts, ...r } = runFactsJob(job.file, job.text, data.cacheDir, data.keyPrefix, true);
      if (!facts) return { i: job.i, ...r };
      // The v8 serializer, not JSON: it keeps an Expr that several facts share as one object (JSON
      // would copy it into each: a third more heap on the main thread), and the bytes move without
      // a copy. They are read back when the facts are taken (prefetched ones may never be).
      const packed = serialize(facts);
      const whole = packed.byteOffset === 0 && packed.byteLength === packed.buffer.byteLength;
      const bytes = whole ? packed : new Uint8Array(packed);
      transfer.push(bytes.buffer as ArrayBuffer);
      return { i: job.i, ...r, packed: bytes };
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      const error = e instanceof ParserLoadError ? `${PARSER_ERROR}${why}` : `internal error: ${why}`;
      return { i: job.i, json: null, hash: "", warning: null, error, parseMs: 0, factsMs: 0 };
    }
  });
  port.postMessage({ batch: batch.id, results }, transfer);
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
