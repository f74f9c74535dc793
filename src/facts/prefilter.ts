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
// the raw bytes (ASCII), so aliases are covered where they are imported. The callers add what
// this stage does not own (src/engine/engine.ts prefilterFor): the names a framework entry point's
// registration spells (src/project/entrypoints.ts) and each rule's own tokens (RuleMeta.tokens)
// for rules that need more than threads; a rule without tokens turns the prefilter off (every
// file is parsed), so a new rule is never silently starved.
//
// What demand loading cannot see, by construction (all need a file that names no token and that
// nothing analysed imports): callers that hand a callback or an executor to thread code,
// subclasses overriding methods that thread code calls through `self`, a pool whose methods are
// called in a file that names no executor or pool, and uses of an Event (`ev.wait()` on the main
// thread) that alone would make it shared. test/perf-prefilter.test.ts checks that the fixtures
// give the same findings with and without the prefilter and that every rule's example passes.

/** Names a spawn site spells (threads.ts). */
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
];

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
 * The prefilter for a run, or null when it cannot be used (a rule that names no tokens: an
 * undefined entry of `ruleTokens`). Tokens: the spawn names, the entry point tables' names, each
 * rule's, and the last name of each configured thread entry point (its function or decorator is
 * spelled in the file that defines or uses it).
 */
export function makePrefilter(
  ruleTokens: readonly (readonly string[] | undefined)[],
  entryPointTokens: readonly string[] = [],
  threadEntryPoints: readonly string[] = [],
): Prefilter | null {
  const tokens = new Set([...SPAWN_TOKENS, ...entryPointTokens]);
  for (const extra of ruleTokens) {
    if (!extra) return null;
    for (const t of extra) tokens.add(t);
  }
  for (const q of threadEntryPoints) {
    const last = q.slice(q.lastIndexOf(".") + 1);
    if (last) tokens.add(last);
  }
  return new Prefilter([...tokens]);
}
