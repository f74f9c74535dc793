// What the pool (pool.ts) and its workers (worker.ts) share: the messages and the status words in
// shared memory. Kept apart so that a worker can publish its status before it loads the parser.

import type { MessagePort } from "node:worker_threads";

export interface Batch {
  id: number;
  jobs: { i: number; file: string; text?: string }[];
}

export interface WorkerData {
  port: MessagePort;
  signal: SharedArrayBuffer;
  /** Per worker, STATUS_FIELDS Int32s at slot * STATUS_FIELDS: see STATUS_*. */
  status: SharedArrayBuffer;
  slot: number;
  cacheDir: string | null;
  keyPrefix: string;
}

/** A worker's status words: set when it exits; files started; files finished; the file (index) it is on. */
export const STATUS_EXITED = 0;
export const STATUS_STARTED = 1;
export const STATUS_FINISHED = 2;
export const STATUS_CURRENT = 3;
export const STATUS_FIELDS = 4;

/** Prefix of a result error that means the parser could not be loaded. */
export const PARSER_ERROR = "parser-load: ";

/** The error of a file whose worker died or stalled while on it. */
export const WORKER_LOST = "the parse worker stopped while analysing this file (it ran out of memory, crashed or hung); not linted";
