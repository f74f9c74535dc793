// The token prefilter: which files are parsed up front.
//
// Every finding of MPS001-MPS003 sits in a function that runs on a worker thread, and the
// analysis finds those functions by starting at spawn sites (threading.Thread/Timer, _thread,
// executors and thread pools, run_in_executor, asyncio.to_thread and friends, Thread
// subclasses, configured entry points) and resolving calls from there. So the files parsed up
// front are the ones that can hold a spawn site; everything reachable from them (the helper in
// B that a thread spawned in A calls, the sync in C that it reaches, the module that defines an
// Event or an executor) is parsed when the project index asks for it by module name while it
// resolves names, imports and calls (demand loading, src/engine/engine.ts). A file that neither holds a
// spawn site nor is needed to resolve anything the analysis looks at is never parsed.
//
// The spawn tokens mirror src/project/threads.ts (SPAWN_NAMES, THREAD_EXECUTORS, THREAD_POOLS,
// TO_THREAD, THREAD_CLASSES): a spawn call spells one of these names, a pool method (`.map`,
// `.apply`) needs an executor or pool that the file names. They are matched as substrings of
// the raw bytes (ASCII), so aliases are covered where they are imported. Rules that need more
// than threads register their own tokens in RULE_TOKENS; a rule the prefilter does not know
// turns it off (every file is parsed), so a new rule is never silently starved.
//
// What demand loading cannot see, by construction (all need a file that names no token and that
// nothing analysed imports): callers that hand a callback or an executor to thread code,
// subclasses overriding methods that thread code calls through `self`, a pool whose methods are
// called in a file that names no executor or pool, and uses of an Event (`ev.wait()` on the main
// thread) that alone would make it shared. test/perf-prefilter.test.ts checks that the fixtures
// give the same findings with and without the prefilter and that every rule's example passes.

import { ENTRY_POINT_TOKENS } from "../project/entrypoints.js";

/** Names a spawn site spells (threads.ts), and framework entry points (src/project/entrypoints.ts). */
export const SPAWN_TOKENS: readonly string[] = [
  "Thread", // threading.Thread, Thread subclasses, ThreadPoolExecutor, ThreadPool
  "Timer",
  "start_new", // _thread.start_new_thread, _thread.start_new
  "submit",
  "run_in_executor",
  "to_thread",
  "run_sync",
  "threadpool", // run_in_threadpool
  "Executor",
  "executor", // an executor handed over as a parameter: executor.map(f, xs)
  "multiprocessing.dummy",
  "multiprocessing.pool",
  "imap",
  "starmap",
  "apply_async",
  "map_async",
  ...ENTRY_POINT_TOKENS,
];

/**
 * Extra tokens by rule code. Rules whose findings all lie in thread code need none: their files
 * are reached from spawn sites. A timing rule that needs no thread would list its clock reads.
 */
export const RULE_TOKENS: Record<string, readonly string[]> = {
  // invalid-syntax (on by default, issue 27): syntax errors are reported in the files that are
  // parsed: those the prefilter keeps, those the analysis loads, and files named on the command
  // line (LintInput.parseAlways). Parsing every file for it cost +60% CPU and +60% memory on dML.
  MPS000: [],
  MPS001: [],
  MPS002: [],
  MPS003: [],
  // unsynced-timing: a timing starts and ends at clock reads (src/project/vocabulary.ts CLOCKS).
  // Known gap: a timing made only through a timer helper imported from another module, in a file
  // that names neither a clock nor a token above (the fixture's `CudaTimer` passes as "Timer").
  // "time.monotonic" rather than "monotonic": the word is common in maths code and docs.
  MPS004: ["perf_counter", "time.monotonic", "time.time", "time import", "time_ns", "default_timer"],
  MPS005: [],
  // blocking-sync-in-async: findings sit in `async def`s; what they call is loaded on demand.
  // Not plain "async": `async_op=`, "asynchronous" in docs (4x the files on PyTorch's sources).
  MPS006: ["async def"],
  // elapsed-time-without-sync: findings sit at `.elapsed_time(...)` calls.
  MPS007: ["elapsed_time"],
  MPS008: [],
  // unused-suppression runs on directive comments: DIRECTIVE_PATTERN below loads their files.
  MPS100: [],
};

/**
 * Files that spell a directive of ours (`# noqa: MPS001`, `# mps-lint: ...`, any case) are always
 * parsed: the suppression stage reads their comments from the facts.
 */
export const DIRECTIVE_PATTERN = "[Mm][Pp][Ss](?:-[Ll][Ii][Nn][Tt]|[0-9])";

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

export class Prefilter {
  private readonly re: RegExp;
  constructor(readonly tokens: readonly string[]) {
    this.re = new RegExp([...tokens.map(escape), DIRECTIVE_PATTERN].join("|"));
  }
  /** Does the text (any decoding that keeps ASCII as ASCII) mention a token. */
  test(text: string): boolean {
    return this.re.test(text);
  }
  testBytes(bytes: Uint8Array): boolean {
    // UTF-16 (with a BOM) does not keep ASCII as ASCII: always parse it (source.ts decodes it).
    if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) return true;
    return this.re.test(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1"));
  }
}

/**
 * The prefilter for a run, or null when it cannot be used (a rule it has no tokens for). Adds
 * the last name of each configured thread entry point (its function or decorator is spelled in
 * the file that defines or uses it).
 */
export function makePrefilter(ruleCodes: readonly string[], threadEntryPoints: readonly string[] = []): Prefilter | null {
  const tokens = new Set(SPAWN_TOKENS);
  for (const code of ruleCodes) {
    const extra = RULE_TOKENS[code];
    if (!extra) return null;
    for (const t of extra) tokens.add(t);
  }
  for (const q of threadEntryPoints) {
    const last = q.slice(q.lastIndexOf(".") + 1);
    if (last) tokens.add(last);
  }
  return new Prefilter([...tokens]);
}
