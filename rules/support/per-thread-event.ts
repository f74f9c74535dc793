// The Python that mps-lint's fixes add to a module, written once: the per-thread Event pattern
// (the guide's Pattern 2) as module-level helpers, and their names. MPS001's fix calls
// `_mps_lint_event_sync(backend)` in place of a device-wide sync, MPS004's calls
// `_mps_lint_wait_for_device()` before a clock read, MPS003's wraps a shared Event's constructor
// in `_PerThreadEvent`. The fix builders beside their rules place these blocks (edit-kit.ts's
// ensureModuleBlocks); nothing here looks at the file being fixed beyond its indentation unit.

/** A module-level block of Python: the name it defines (added once per module) and its lines. */
export interface HelperBlock {
  name: string;
  lines: string[];
}

// ---- per-thread event sync (MPS001, and MPS004's wait) ------------------------------------------
//
// MPS001's wait replaces the device-wide sync where it stands, as a call of one module-level helper
// that gets the backend module from the call site (`_mps_lint_event_sync(torch.cuda)`): the wait
// then runs under exactly the conditions the sync ran under (its `if device == "cuda":`, its
// `try:`, its loop), through the module's own torch binding (an alias, a function-local import),
// and the module needs no new torch import. The helper keeps one Event per thread *and* device in
// a `threading.local` (never one per call or per executor task, MPS005's mistake; never one Event
// for a thread that moves between GPUs), made on first use and, where the backend has streams,
// recorded on the stream the thread had then (issue 15: `record()` without a stream pays a
// `current_stream()` lookup on every call).
//
// `--verify`'s event_sync run (native-verify/mps_lint_verify/instrument.py, per_thread_event_sync)
// is a second spelling of this pattern, not this text: it wraps `torch.<backend>.synchronize` at
// run time and, in threads other than the main one, records and waits on one Event per thread.
// It differs from `_mps_lint_event_sync` in where it applies (every device-wide sync a worker
// thread makes, with or without a finding or a fix, deliberate ones included; never the main
// thread's; the fix replaces the syncs it finds, wherever they run), in its key (one Event per
// thread, not per thread and device; the sync's device argument ignored), in its per-call cost
// (no `current_device()` lookup), in its Event (the device `--verify` runs on, MPS code retargeted
// to CUDA, a CPU stand-in where there is none; record and synchronize un-instrumented so they do
// not count as the user's Event use) and its stream (captured only on CUDA). Running this text
// there instead would need a shim backend for all of that and would still replace other syncs
// than the fix does; measuring the fix itself means running the fixed code (issue 29).

/** Backends whose device-wide sync has a per-thread Event form; torch.accelerator has no Event module of its own. */
export const PER_THREAD_BACKENDS = new Set(["mps", "cuda", "xpu"]);

const THREAD_LOCAL = "_mps_lint_local";
export const EVENT_SYNC = "_mps_lint_event_sync";
export const WAIT_FOR_DEVICE = "_mps_lint_wait_for_device";
export const PROXY = "_PerThreadEvent";
/** Every helper a fix adds: new ones go after those already there. */
export const OUR_HELPERS = [THREAD_LOCAL, EVENT_SYNC, WAIT_FOR_DEVICE, PROXY];

/** The thread-local holder and `_mps_lint_event_sync`, indented by `u`, with threading imported as `threadingName`. */
export function eventSyncBlocks(u: string, threadingName: string): HelperBlock[] {
  return [
    { name: THREAD_LOCAL, lines: [`${THREAD_LOCAL} = ${threadingName}.local()`] },
    {
      name: EVENT_SYNC,
      lines: [
        `def ${EVENT_SYNC}(backend, device=None):`,
        `${u}"""Wait for the work this thread queued on \`backend\` (torch.cuda, torch.mps, torch.xpu), not`,
        `${u}for every thread's: one Event per thread and device, made on first use and recorded on the`,
        `${u}stream the thread used then. Added by mps-lint's fix (per-thread event sync)."""`,
        `${u}if not hasattr(backend, "Event"):  # torch.mps before torch 2.1: the device-wide wait is all there is`,
        `${u}${u}backend.synchronize()  # noqa: MPS001`,
        `${u}${u}return`,
        `${u}events = ${THREAD_LOCAL}.__dict__.setdefault("events", {})`,
        `${u}current_device = getattr(backend, "current_device", None)`,
        `${u}key = (backend.__name__, device if device is not None or current_device is None else current_device())`,
        `${u}if key not in events:`,
        `${u}${u}stream = backend.current_stream(device) if hasattr(backend, "current_stream") else None`,
        `${u}${u}events[key] = (backend.Event(), stream)`,
        `${u}event, stream = events[key]`,
        `${u}if stream is None:`,
        `${u}${u}event.record()`,
        `${u}else:`,
        `${u}${u}event.record(stream)`,
        `${u}event.synchronize()`,
      ],
    },
  ];
}

/** MPS004's `_mps_lint_wait_for_device()`: the event sync on every backend in use (needs eventSyncBlocks). */
export function waitForDeviceBlock(u: string): HelperBlock {
  return {
    name: WAIT_FOR_DEVICE,
    lines: [
      `def ${WAIT_FOR_DEVICE}():`,
      `${u}"""Wait for the work this thread queued on each device backend in use (CUDA once initialized,`,
      `${u}MPS, XPU); nothing on CPU-only builds. Runs on any torch version. Added by mps-lint's fix."""`,
      `${u}import torch`,
      "",
      `${u}in_use = [torch.cuda] if torch.cuda.is_available() and torch.cuda.is_initialized() else []`,
      `${u}if hasattr(torch, "mps") and hasattr(torch.mps, "synchronize") and torch.backends.mps.is_available():`,
      `${u}${u}in_use.append(torch.mps)`,
      `${u}if hasattr(torch, "xpu") and hasattr(torch.xpu, "Event") and torch.xpu.is_available():`,
      `${u}${u}in_use.append(torch.xpu)`,
      `${u}for backend in in_use:`,
      `${u}${u}${EVENT_SYNC}(backend)`,
    ],
  };
}

// ---- one Event per thread (MPS003) ----------------------------------------------------------------

/** `_PerThreadEvent`: a `threading.local` subclass that makes one Event per thread on first use. */
export function proxyBlock(u: string, threadingName: string): HelperBlock {
  return {
    name: PROXY,
    lines: [
      `class ${PROXY}(${threadingName}.local):`,
      `${u}"""One Event per thread: each thread that uses it gets its own factory(*args, **kwargs)."""`,
      "",
      `${u}def __init__(self, factory, *args, **kwargs):`,
      `${u}${u}self._event = factory(*args, **kwargs)`,
      "",
      `${u}def __getattr__(self, name):`,
      `${u}${u}return getattr(self._event, name)`,
    ],
  };
}
