"""The runtime witness: light hooks on the waits of torch, with the thread each one runs in.

Loaded into the user's own interpreter by `mps-lint trace` (through sitecustomize) or by the
pytest plugin (`pytest -p mps_lint_trace`). Nothing here may change what the traced program
does: every hook calls the original first-class (same arguments, same result, same exception),
and whatever goes wrong in the bookkeeping is counted in `hook_errors` and swallowed.

What is recorded, per process:
* every device-wide wait (`torch.{mps,cuda,xpu,accelerator,hpu,npu}.synchronize`), every
  `Event.synchronize` and `Stream.synchronize`, with the time it blocked, the thread (main or
  worker, and how the worker was started), whether an asyncio event loop runs in that thread,
  and the runtime stack (the first sample of each distinct stack);
* every Event's record/synchronize/wait/query/elapsed_time, per Event object: which threads
  recorded it and waited on it, and whether anything waited for its last record before
  `elapsed_time` read it.

From these, `observations()` derives MPS001 (device-wide wait on a worker thread), MPS003 (one
Event recorded from several threads, or re-recorded by one thread while another waits on it),
MPS006 (a blocking wait while an event loop runs in the thread) and MPS007 (`elapsed_time` on an
end event nothing waited for).
"""

import collections
import itertools
import math
import os
import sys
import threading
import time

SCHEMA = "mps-lint-trace/1"
_pc = time.perf_counter

# Device-wide waits: torch.<ns>.synchronize for each namespace present.
SYNC_NAMESPACES = ("mps", "cuda", "xpu", "accelerator", "hpu", "npu")
EVENT_NAMESPACES = ("mps", "cuda", "xpu", "hpu", "npu")
STREAM_NAMESPACES = ("cuda", "xpu", "hpu", "npu")

# Frames of the runtime stack kept in the aggregation key (innermost first), and in a witness.
KEY_FRAMES = 1
MERGE_FRAMES = 3
MAX_STACK = 40
# Log-scale histogram of blocked times: bucket b holds durations in [BASE**b, BASE**(b+1)) s,
# so p95 is known to within 2%.
BASE = 1.02
_LOG_BASE = math.log(BASE)
_INV_LOG_BASE = 1.0 / _LOG_BASE
_log = math.log
_floor = math.floor

_HERE = os.path.dirname(os.path.abspath(__file__))
_STDLIB = os.path.dirname(os.path.abspath(os.__file__))


def _bucket(dt):
    if dt <= 1e-9:
        return -1000
    return _floor(_log(dt) * _INV_LOG_BASE)


def percentile_from_hist(hist, q):
    """The q-quantile (0..1) of a histogram {bucket: count}: the upper edge of the bucket that
    holds it (an over-estimate by less than 2%)."""
    n = sum(hist.values())
    if n == 0:
        return 0.0
    want = max(1, int(math.ceil(q * n)))
    seen = 0
    for b in sorted(hist):
        seen += hist[b]
        if seen >= want:
            return 0.0 if b <= -1000 else BASE ** (b + 1)
    return 0.0


def _package_of(path):
    """'anyio' for .../site-packages/anyio/to_thread.py; None outside site/dist-packages."""
    for marker in ("site-packages", "dist-packages"):
        i = path.rfind(os.sep + marker + os.sep)
        if i >= 0:
            rest = path[i + len(marker) + 2:]
            top = rest.split(os.sep, 1)[0]
            if top.endswith(".py"):
                top = top[:-3]
            return top or None
    return None


class _ThreadState(object):
    __slots__ = ("serial", "ident", "name", "is_main", "origin", "waits", "elapsed", "task", "counts")

    def __init__(self, serial, ident, name, is_main, origin):
        self.serial = serial
        self.ident = ident
        self.name = name
        self.is_main = is_main
        self.origin = origin
        self.waits = {}  # key -> _Agg
        self.elapsed = {}  # key -> _ElapsedAgg
        self.task = None  # origin of the executor task running now (set by the _WorkItem hook)
        self.counts = {}  # waits only counted (not aggregated): kind -> n


class _Agg(object):
    __slots__ = ("api", "kind", "loop", "origin", "count", "total", "max", "hist", "stack",
                 "raised", "tests")

    def __init__(self, api, kind, loop, origin, stack):
        self.api = api
        self.kind = kind
        self.loop = loop
        self.origin = origin
        self.stack = stack
        self.count = 0
        self.total = 0.0
        self.max = 0.0
        self.hist = {}
        self.raised = 0
        self.tests = []


class _ElapsedAgg(object):
    __slots__ = ("origin", "loop", "stack", "count", "unwaited", "never_recorded", "tests")

    def __init__(self, origin, loop, stack):
        self.origin = origin
        self.loop = loop
        self.stack = stack
        self.count = 0
        self.unwaited = 0
        self.never_recorded = 0
        self.tests = []


class _Use(object):
    """One thread's use of one Event: counted by that thread alone (no lock, no lost counts)."""
    __slots__ = ("st", "stack", "ops", "user")

    def __init__(self, st, stack):
        self.st = st
        self.stack = stack
        self.ops = {}
        self.user = False  # recorded, synchronized or waited on it (query/elapsed_time are not uses)


class _EventInfo(object):
    __slots__ = ("api", "created", "creator", "uses", "rec_seq", "done_seq", "listed")

    def __init__(self, api, created, creator):
        self.api = api
        self.created = created  # stack (list of frames) or None
        self.creator = creator  # thread serial or None
        self.uses = {}  # thread serial -> _Use
        self.rec_seq = 0  # sequence number of the last record()
        self.done_seq = 0  # sequence number at which a wait on this event last began
        self.listed = False

    def summary(self):
        uses = list(self.uses.values())
        users = [u for u in uses if u.user]
        ops = collections.Counter()
        for u in uses:
            ops.update(u.ops)
        recorders = [u for u in uses if u.ops.get("record")]
        return users, recorders, ops


class Tracer(object):
    def __init__(self, mode="trace"):
        self.mode = mode
        self.lock = threading.Lock()
        self.tls = threading.local()
        self.states = []
        self._serials = itertools.count(1)
        self._seq = itertools.count(1)
        # Sequence number at which the last device-wide / stream wait began (and ended): an
        # Event recorded before it has completed.
        self.device_wait_seq = 0
        self.stream_wait_seq = 0
        self.events = []  # _EventInfo, in order of first use
        self._info_fallback = {}  # id(event) -> (event, info), for objects without __dict__
        self._code_kind = {}  # id(code) -> (code, 0 internal / 1 stdlib / 2 kept)
        self._where = {}  # id(code) -> (code, real path, package)
        self.hook_errors = collections.Counter()
        self.instrumented = []
        self.retargeted = []
        self.notes = []
        self.device = None
        self.torch_version = None
        self.current_test = None
        self.pid = os.getpid()
        self.started = time.time()
        try:
            self.cwd = os.path.realpath(os.getcwd())
        except OSError:
            self.cwd = None
        try:
            self._main_ident = threading.main_thread().ident
        except Exception:
            self._main_ident = None
        self._internal_dirs = [_HERE + os.sep]
        self._flush = None
        self._flush_every = None
        self.next_flush = float("inf")  # perf_counter() after which a hook sends a snapshot
        self._flushing = threading.Lock()
        self._retarget_dir = None

    def set_periodic_flush(self, fn, every_s):
        self._flush = fn
        self._flush_every = every_s
        self.next_flush = _pc() + every_s

    def maybe_flush(self, now):
        """Called by the hooks once `now` passes next_flush: one thread sends, the others go on."""
        if self._flush is None or not self._flushing.acquire(False):
            return
        try:
            self.next_flush = now + self._flush_every
            self._flush()
        finally:
            self._flushing.release()

    # ------------------------------------------------------------------ bookkeeping helpers
    def error(self, where, exc=None):
        """A failure inside a hook: counted, never raised into the program."""
        try:
            self.hook_errors["%s: %s" % (where, type(exc).__name__ if exc is not None else "error")] += 1
        except Exception:
            pass

    def add_internal_dir(self, d):
        if d:
            d = os.path.abspath(d) + os.sep
            if d not in self._internal_dirs:
                self._internal_dirs.append(d)
                self._code_kind.clear()

    def _kind(self, code):
        """0: a frame of torch or of this tracer (skipped); 1: stdlib (skipped in stacks, seen
        by the origin classifier); 2: the program's or a library's code (kept).
        Cached by id(code), with the code object kept so the id stays its own (hashing a code
        object hashes its contents: too slow for every wait)."""
        e = self._code_kind.get(id(code))
        if e is not None and e[0] is code:
            return e[1]
        fn = code.co_filename
        if fn.startswith("<frozen") or fn.startswith("<string>"):
            k = 1
        else:
            a = os.path.abspath(fn) if not fn.startswith("<") else fn
            if any(a.startswith(d) for d in self._internal_dirs):
                k = 0
            elif a.startswith(_STDLIB + os.sep) and _package_of(a) is None:
                k = 1
            else:
                k = 2
        self._code_kind[id(code)] = (code, k)
        return k

    def _key_frames(self, f):
        """The innermost KEY_FRAMES kept frames from f outwards, as (id(code), f_lasti) pairs: a
        call site within a code object, without computing its line (done once, for the stack
        kept with a new key)."""
        out = []
        cache = self._code_kind
        while f is not None:
            code = f.f_code
            e = cache.get(id(code))
            if e is None or e[0] is not code:
                k = self._kind(code)
            else:
                k = e[1]
            if k == 2:
                out.append((id(code), f.f_lasti))
                if len(out) == KEY_FRAMES:
                    break
            f = f.f_back
        return tuple(out)

    def _stack(self, f):
        """The kept frames from f outwards (innermost first), as plain data."""
        out = []
        kind = self._kind
        where = self._where
        while f is not None and len(out) < MAX_STACK:
            code = f.f_code
            if kind(code) == 2:
                w = where.get(id(code))
                if w is None or w[0] is not code:
                    fn = code.co_filename
                    real = os.path.realpath(fn) if not fn.startswith("<") else fn
                    w = where[id(code)] = (code, real, _package_of(real))
                entry = {"file": w[1], "line": f.f_lineno, "func": code.co_name, "def": code.co_firstlineno}
                if code.co_flags & 0x80:  # CO_COROUTINE
                    entry["async"] = True
                if w[2]:
                    entry["package"] = w[2]
                out.append(entry)
            f = f.f_back
        return out

    def thread_state(self):
        tls = self.tls
        st = getattr(tls, "st", None)
        if st is None:
            ident = threading.get_ident()
            th = threading._active.get(ident)  # no _DummyThread is created for foreign threads
            is_main = ident == self._main_ident
            origin = None
            if not is_main:
                origin = getattr(th, "_mps_lint_origin", None) if th is not None else None
                if origin is None:
                    origin = {"kind": "unknown", "label": "a thread whose start was not seen (started before the hooks, or by C code)",
                              "site": None, "package": None}
            st = _ThreadState(next(self._serials), ident, th.name if th is not None else "thread-%d" % ident,
                              is_main, origin)
            tls.st = st
            with self.lock:
                self.states.append(st)
        return st

    @staticmethod
    def _loop_running():
        m = sys.modules.get("asyncio")
        if m is None:
            return False
        try:
            return m._get_running_loop() is not None
        except Exception:
            return False

    # ------------------------------------------------------------------ waits
    def on_wait(self, api, kind, dt, frame, raised):
        """A blocking wait finished (or raised) after dt seconds. frame: the caller's frame."""
        st = self.thread_state()
        loop = self._loop_running()
        task = st.task
        key = (api, loop, task["label"] if task else None, self._key_frames(frame))
        agg = st.waits.get(key)
        if agg is None:
            agg = st.waits[key] = _Agg(api, kind, loop, task or st.origin, self._stack(frame))
        agg.count += 1
        agg.total += dt
        if dt > agg.max:
            agg.max = dt
        b = _floor(_log(dt) * _INV_LOG_BASE) if dt > 1e-9 else -1000
        hist = agg.hist
        hist[b] = hist.get(b, 0) + 1
        if raised:
            agg.raised += 1
        t = self.current_test
        if t is not None and len(agg.tests) < 5 and t not in agg.tests:
            agg.tests.append(t)

    def wrap_device_sync(self, orig, api):
        tr = self

        def synchronize(*a, **k):
            seq = next(tr._seq)
            t0 = _pc()
            raised = True
            try:
                r = orig(*a, **k)
                raised = False
                return r
            finally:
                dt = _pc() - t0
                try:
                    if not raised and seq > tr.device_wait_seq:
                        tr.device_wait_seq = seq
                    tr.on_wait(api, "device_sync", dt, sys._getframe(1), raised)
                    if t0 + dt > tr.next_flush:
                        tr.maybe_flush(t0 + dt)
                except Exception as e:
                    tr.error(api, e)

        _copy_meta(synchronize, orig)
        synchronize.__mps_lint_trace__ = True
        return synchronize

    def wrap_stream_sync(self, orig, api):
        tr = self

        def synchronize(stream, *a, **k):
            seq = next(tr._seq)
            t0 = _pc()
            raised = True
            try:
                r = orig(stream, *a, **k)
                raised = False
                return r
            finally:
                dt = _pc() - t0
                try:
                    if not raised and seq > tr.stream_wait_seq:
                        tr.stream_wait_seq = seq
                    if tr._loop_running():  # MPS006; elsewhere a stream wait is only counted
                        tr.on_wait(api, "stream_synchronize", dt, sys._getframe(1), raised)
                    else:
                        c = tr.thread_state().counts
                        c["stream_synchronize"] = c.get("stream_synchronize", 0) + 1
                except Exception as e:
                    tr.error(api, e)

        _copy_meta(synchronize, orig)
        synchronize.__mps_lint_trace__ = True
        return synchronize

    # ------------------------------------------------------------------ events
    def _info(self, ev, api, create=True):
        try:
            info = ev.__dict__.get("_mps_lint_trace")
        except AttributeError:
            pair = self._info_fallback.get(id(ev))
            info = pair[1] if pair is not None and pair[0] is ev else None
        if info is None and create:
            info = _EventInfo(api, None, None)
            self._set_info(ev, info)
        return info

    def _set_info(self, ev, info):
        try:
            ev.__dict__["_mps_lint_trace"] = info
        except AttributeError:
            self._info_fallback[id(ev)] = (ev, info)

    def on_event_created(self, ev, api, frame):
        st = self.thread_state()
        self._set_info(ev, _EventInfo(api, self._stack(frame), st.serial))

    def on_event_op(self, ev, api, op, frame, dt=None, result=None, raised=False, seq=0):
        st = self.thread_state()
        info = self._info(ev, api)
        if not info.listed:
            with self.lock:
                if not info.listed:
                    info.listed = True
                    self.events.append(info)
        use = info.uses.get(st.serial)
        if use is None:
            use = info.uses[st.serial] = _Use(st, self._stack(frame))
        ops = use.ops
        ops[op] = ops.get(op, 0) + 1
        if op == "query":
            if result is True and seq > info.done_seq:
                info.done_seq = seq
            return
        use.user = True
        if raised:
            return
        if op == "record":
            info.rec_seq = seq
        elif op == "synchronize":
            if seq > info.done_seq:
                info.done_seq = seq
            # Its blocked time matters where it blocks an event loop (MPS006); elsewhere an Event
            # wait is the fix, and only counted.
            if self._loop_running():
                self.on_wait(api + ".synchronize", "event_synchronize", dt or 0.0, frame, raised)
            else:
                c = st.counts
                c["event_synchronize"] = c.get("event_synchronize", 0) + 1

    def on_elapsed(self, start, end, api, frame):
        st = self.thread_state()
        info = self._info(end, api, create=False) if end is not None else None
        loop = self._loop_running()
        task = st.task
        key = (loop, task["label"] if task else None, self._key_frames(frame))
        agg = st.elapsed.get(key)
        if agg is None:
            agg = st.elapsed[key] = _ElapsedAgg(task or st.origin, loop, self._stack(frame))
        agg.count += 1
        if info is not None:
            if info.rec_seq == 0:
                agg.never_recorded += 1
                agg.unwaited += 1
            elif max(info.done_seq, self.device_wait_seq, self.stream_wait_seq) <= info.rec_seq:
                agg.unwaited += 1
        t = self.current_test
        if t is not None and len(agg.tests) < 5 and t not in agg.tests:
            agg.tests.append(t)

    def _event_method(self, orig, api, name):
        tr = self

        if name == "elapsed_time":
            def method(ev, end_event, *a, **k):
                try:
                    tr.on_elapsed(ev, end_event, api, sys._getframe(1))
                except Exception as e:
                    tr.error(api + ".elapsed_time", e)
                return orig(ev, end_event, *a, **k)
        else:
            def method(ev, *a, **k):
                seq = next(tr._seq)
                t0 = _pc()
                raised = True
                result = None
                try:
                    result = orig(ev, *a, **k)
                    raised = False
                    return result
                finally:
                    dt = _pc() - t0
                    try:
                        tr.on_event_op(ev, api, name, sys._getframe(1), dt, result, raised, seq)
                        if t0 + dt > tr.next_flush:
                            tr.maybe_flush(t0 + dt)
                    except Exception as e:
                        tr.error(api + "." + name, e)

        _copy_meta(method, orig)
        method.__name__ = name
        method.__mps_lint_trace__ = True
        return method

    def patch_event_class(self, cls, api):
        """Wrap __init__ and the methods of `cls` in place. A builtin (immutable) type, such as
        the generic torch.Event, is left alone: replacing it by a subclass, as --verify does,
        would change what isinstance() says of the events torch makes itself. Returns cls, or
        None when it could not be instrumented."""
        try:
            self._patch_event(cls, api)
            return cls
        except (TypeError, AttributeError):
            self.notes.append("%s is a builtin type: not instrumented (the program's own Event classes, "
                              "torch.cuda.Event and torch.mps.Event, are)" % api)
            return None

    def _patch_event(self, cls, api):
        if cls.__dict__.get("__mps_lint_trace_patched__"):
            return
        tr = self
        orig_init = cls.__init__
        if not getattr(orig_init, "__mps_lint_trace__", False):
            def __init__(ev, *a, **k):
                if orig_init is object.__init__:
                    orig_init(ev)
                else:
                    orig_init(ev, *a, **k)
                try:
                    tr.on_event_created(ev, api, sys._getframe(1))
                except Exception as e:
                    tr.error(api + ".__init__", e)
            __init__.__mps_lint_trace__ = True
            setattr(cls, "__init__", __init__)  # TypeError on an immutable builtin type
        for name in ("record", "synchronize", "wait", "query", "elapsed_time"):
            orig = getattr(cls, name, None)
            if orig is None or getattr(orig, "__mps_lint_trace__", False):
                continue
            setattr(cls, name, self._event_method(orig, api, name))
        setattr(cls, "__mps_lint_trace_patched__", True)
        self.instrumented.append(api + ".record/synchronize/wait/query/elapsed_time")

    def patch_stream_class(self, cls, api):
        orig = cls.__dict__.get("synchronize") or getattr(cls, "synchronize", None)
        if orig is None or getattr(orig, "__mps_lint_trace__", False):
            return
        try:
            setattr(cls, "synchronize", self.wrap_stream_sync(orig, api + ".synchronize"))
            self.instrumented.append(api + ".synchronize")
        except (TypeError, AttributeError):
            self.notes.append("%s.synchronize could not be instrumented (builtin type)" % api)

    # ------------------------------------------------------------------ install on torch
    def install_torch(self, torch, device=None, retarget_module=None):
        """Hooks on whatever this torch has. With `device`, re-target the accelerators that are
        not available to it first (as `--verify` does), using mps_lint_verify.instrument."""
        self.torch_version = str(getattr(torch, "__version__", "?"))
        self.add_internal_dir(os.path.dirname(os.path.abspath(torch.__file__)))
        if device and retarget_module is not None:
            self._retarget(torch, device, retarget_module)
        seen = set()
        for ns_name in EVENT_NAMESPACES:
            ns = _ns(torch, ns_name)
            cls = getattr(ns, "Event", None) if ns is not None else None
            if isinstance(cls, type) and id(cls) not in seen:
                seen.add(id(cls))
                new = self.patch_event_class(cls, "torch.%s.Event" % ns_name)
                if new is not None and new is not cls:
                    try:
                        setattr(ns, "Event", new)
                    except Exception:
                        pass
        gen = getattr(torch, "Event", None)
        if isinstance(gen, type) and id(gen) not in seen:
            seen.add(id(gen))
            new = self.patch_event_class(gen, "torch.Event")
            if new is not None and new is not gen:
                torch.Event = new
        if retarget_module is not None and device:
            cpu_event = getattr(retarget_module, "CpuEvent", None)
            if isinstance(cpu_event, type) and id(cpu_event) not in seen:
                self.patch_event_class(cpu_event, "Event (cpu stand-in)")
            dummy = getattr(retarget_module, "_DummyStream", None)
            if isinstance(dummy, type):
                self.patch_stream_class(dummy, "Stream (cpu stand-in)")
        for ns_name in STREAM_NAMESPACES:
            ns = _ns(torch, ns_name)
            cls = getattr(ns, "Stream", None) if ns is not None else None
            if isinstance(cls, type):
                self.patch_stream_class(cls, "torch.%s.Stream" % ns_name)
        for ns_name in SYNC_NAMESPACES:
            ns = _ns(torch, ns_name)
            fn = getattr(ns, "synchronize", None) if ns is not None else None
            if fn is None or getattr(fn, "__mps_lint_trace__", False):
                continue
            try:
                setattr(ns, "synchronize", self.wrap_device_sync(fn, "torch.%s.synchronize" % ns_name))
                self.instrumented.append("torch.%s.synchronize" % ns_name)
            except Exception as e:
                self.notes.append("could not wrap torch.%s.synchronize: %s" % (ns_name, e))

    def _retarget(self, torch, device, mod):
        devices = mod.devices
        inst_mod = mod.instrument
        if device == "auto":
            device = devices.pick_device(torch, None)
        elif device != "cpu" and not devices.accelerator_available(torch, device):
            self.notes.append("--device %s: not available in this torch (%s); not re-targeted" % (device, torch.__version__))
            return
        self.device = device
        mapping = {}
        for kind in devices.ACCELERATORS:
            if kind != device and not devices.accelerator_available(torch, kind):
                mapping[kind] = device
        inst = inst_mod.Instrumentation(torch, device, "as_written", mapping, False, None)
        inst.install_namespaces()
        inst.install_retarget()
        self.retargeted.extend(inst.retargeted)
        self._retarget_inst = inst
        self.add_internal_dir(os.path.dirname(os.path.abspath(inst_mod.__file__)))

    # ------------------------------------------------------------------ threads
    def install_threads(self):
        tr = self
        orig_start = threading.Thread.start
        if getattr(orig_start, "__mps_lint_trace__", False):
            return

        def start(th, *a, **k):
            try:
                if getattr(th, "_mps_lint_origin", None) is None:
                    th._mps_lint_origin = tr.classify_start(sys._getframe(1), th)
            except Exception as e:
                tr.error("Thread.start", e)
            return orig_start(th, *a, **k)

        _copy_meta(start, orig_start)
        start.__mps_lint_trace__ = True
        threading.Thread.start = start

    def install_executor(self, thread_mod):
        """concurrent.futures.thread: each task remembers who submitted it (the per-task origin
        of an executor's thread: submit, map, asyncio.to_thread, run_in_executor, a framework)."""
        wi = getattr(thread_mod, "_WorkItem", None)
        if wi is None or getattr(wi.__init__, "__mps_lint_trace__", False):
            return
        tr = self
        orig_init, orig_run = wi.__init__, wi.run

        def __init__(item, *a, **k):
            orig_init(item, *a, **k)
            try:
                fn = a[1] if len(a) >= 2 and callable(a[1]) else getattr(item, "fn", None)
                item._mps_lint_task = tr.classify_task(sys._getframe(1), fn)
            except Exception as e:
                tr.error("executor submit", e)

        def run(item, *a, **k):
            st = None
            try:
                st = tr.thread_state()
                prev = st.task
                st.task = getattr(item, "_mps_lint_task", None)
            except Exception as e:
                tr.error("executor run", e)
            try:
                return orig_run(item, *a, **k)
            finally:
                if st is not None:
                    st.task = prev

        __init__.__mps_lint_trace__ = True
        _copy_meta(__init__, orig_init)
        _copy_meta(run, orig_run)
        wi.__init__ = __init__
        wi.run = run

    def _frames_info(self, f, limit=MAX_STACK):
        out = []
        while f is not None and len(out) < limit:
            code = f.f_code
            out.append((code.co_filename, f.f_lineno, code.co_name, self._kind(code)))
            f = f.f_back
        return out

    def _classify(self, frames, kind):
        """frames: (file, line, func, kind) innermost first, from the start/submit call out.
        Returns (kind or None, the program's frame nearest the start, the library between).
        Only the frames inside the program's nearest frame tell how the thread was started (a
        thread started by code that itself runs in a pool is not the pool's)."""
        inner = _inner(frames)

        def has(suffix, func=None):
            for fn, _ln, name, _k in inner:
                if fn.replace("\\", "/").endswith(suffix) and (func is None or name == func):
                    return True
            return False
        if has("asyncio/threads.py", "to_thread"):
            kind = "asyncio.to_thread"
        elif has("asyncio/base_events.py", "run_in_executor"):
            kind = "loop.run_in_executor"
        elif kind is None and has("concurrent/futures/thread.py"):
            kind = "ThreadPoolExecutor"
        elif kind is None and (has("multiprocessing/pool.py") or has("multiprocessing/dummy/__init__.py")):
            kind = "multiprocessing.pool.ThreadPool"
        site, package = None, None
        for fn, ln, name, k in frames:
            if k == 0 and package is None and os.sep + "torch" + os.sep in fn:
                package = "torch"
            if k != 2:
                continue
            path = os.path.realpath(fn) if not fn.startswith("<") else fn
            pkg = _package_of(path)
            if pkg is not None:
                if package is None:
                    package = pkg
                continue
            site = {"file": path, "line": ln, "func": name}
            break
        return kind, site, package

    @staticmethod
    def _origin(kind, target, site, package):
        label = "%s(%s)" % (kind, target) if target else kind
        if package:
            label += " via %s" % package
        return {"kind": kind, "label": label, "site": site, "package": package}

    def classify_start(self, f, th):
        if isinstance(th, threading.Timer):
            kind = "threading.Timer"
        elif type(th) is threading.Thread:
            kind = None
        else:
            kind = "%s (threading.Thread subclass)" % type(th).__name__
        target = getattr(th, "_target", None)
        tname = _callable_name(target) if target is not None else None
        kind, site, package = self._classify(self._frames_info(f), kind)
        o = self._origin(kind or "threading.Thread", ("target=%s" % tname) if tname else None, site, package)
        o["thread_name"] = th.name
        return o

    def classify_task(self, f, fn):
        frames = self._frames_info(f)
        kind, site, package = self._classify(frames, None)
        if kind in (None, "ThreadPoolExecutor"):
            via_map = any(name == "map" and fn_.replace("\\", "/").endswith("concurrent/futures/_base.py")
                          for fn_, _l, name, _k in _inner(frames))
            kind = "ThreadPoolExecutor.map" if via_map else "ThreadPoolExecutor.submit"
        return self._origin(kind, _callable_name(fn) if fn is not None else None, site, package)

    # ------------------------------------------------------------------ snapshot
    def snapshot(self):
        rows = []  # (code, row) per thread, merged below
        main_rows = []
        with self.lock:
            states = list(self.states)
            events = list(self.events)
        for st in states:
            for agg in _copy_values(st.waits):
                base = {"api": agg.api, "wait": agg.kind, "site": agg.stack[0] if agg.stack else None,
                        "stack": agg.stack, "count": agg.count, "total_s": agg.total, "max_s": agg.max,
                        "hist": dict(agg.hist), "raised": agg.raised, "loop": agg.loop,
                        "thread": _thread_info(st, agg.origin), "tests": list(agg.tests), "threads": {st.serial}}
                if agg.kind == "device_sync" and not st.is_main:
                    rows.append(dict(base, code="MPS001"))
                if agg.loop:
                    rows.append(dict(base, code="MPS006"))
                if agg.kind == "device_sync" and st.is_main and not agg.loop:
                    main_rows.append(dict(base, code=None))
            for agg in _copy_values(st.elapsed):
                if agg.unwaited == 0:
                    continue
                rows.append({"code": "MPS007", "api": "Event.elapsed_time", "site": agg.stack[0] if agg.stack else None,
                             "stack": agg.stack, "count": agg.unwaited, "calls": agg.count,
                             "never_recorded": agg.never_recorded, "loop": agg.loop,
                             "thread": _thread_info(st, agg.origin), "tests": list(agg.tests), "threads": {st.serial}})
        obs = _merge(rows)
        main_waits = _merge(main_rows)
        # MPS003: events recorded from 2+ threads, or re-recorded while another thread waits on
        # them; grouped by where the Event was created.
        by_site = collections.OrderedDict()
        for info in events:
            users, recorders, ops = info.summary()
            if len(users) < 2:
                continue
            records = ops.get("record", 0)
            # A one-shot hand-off (recorded once by one thread, waited on by another) is the
            # pattern MPS006's fix uses (`await asyncio.to_thread(ev.synchronize)`): reported
            # apart, not as MPS003.
            racing = len(recorders) >= 2 or records >= 2
            created = info.created or []
            key = (racing, info.api, tuple((s["file"], s["line"]) for s in created[:MERGE_FRAMES]))
            g = by_site.get(key)
            if g is None:
                g = by_site[key] = {"code": "MPS003" if racing else None, "api": info.api, "site": created[0] if created else None,
                                    "created": created, "events": 0, "max_threads": 0, "records": 0,
                                    "ops": collections.Counter(), "users": collections.OrderedDict()}
            g["events"] += 1
            g["max_threads"] = max(g["max_threads"], len(users))
            g["records"] += records
            g["ops"].update(ops)
            for u in users:
                st, stack = u.st, u.stack
                ukey = (st.origin or {}).get("label", "main") if not st.is_main else "main"
                ukey = (ukey, tuple((s["file"], s["line"]) for s in stack[:MERGE_FRAMES]))
                if ukey not in g["users"]:
                    g["users"][ukey] = {"thread": _thread_info(st, st.origin), "stack": stack, "threads": 0}
                g["users"][ukey]["threads"] += 1
        handoffs = []
        for (racing, _api, _k), g in by_site.items():
            g["ops"] = dict(g["ops"])
            g["users"] = list(g["users"].values())
            g["count"] = g["events"]
            g["stack"] = g["created"]
            if racing:
                obs.append(g)
            else:
                handoffs.append(g)
        threads = [{"serial": st.serial, "name": st.name, "main": st.is_main, "origin": st.origin}
                   for st in states]
        totals = collections.Counter()
        for st in states:
            for agg in _copy_values(st.waits):
                totals[agg.kind] += agg.count
            totals.update(dict(st.counts))
        for info in events:
            totals["event_ops"] += sum(info.summary()[2].values())
        return {
            "schema": SCHEMA,
            "mode": self.mode,
            "pid": self.pid,
            "ppid": os.getppid() if hasattr(os, "getppid") else None,
            "argv": [str(a)[:200] for a in list(getattr(sys, "argv", []))[:12]],
            "cwd": self.cwd,
            "started": self.started,
            "python": sys.executable,
            "python_version": "%d.%d.%d" % sys.version_info[:3],
            "torch": self.torch_version,
            "device": self.device,
            "instrumented": list(self.instrumented),
            "retargeted": list(self.retargeted),
            "notes": list(self.notes),
            "hook_errors": dict(self.hook_errors),
            "threads": threads,
            "observations": obs,
            "main_waits": main_waits,
            "event_handoffs": handoffs,
            "totals": dict(totals),
            "elapsed_s": round(time.time() - self.started, 3),
        }

    def reset_after_fork(self):
        """In a forked child: a new process, whose own waits are reported; the parent's stay
        the parent's."""
        self.pid = os.getpid()
        self.started = time.time()
        self.lock = threading.Lock()
        self.tls = threading.local()
        self.states = []
        self.events = []
        self._info_fallback = {}
        self._flushing = threading.Lock()
        if self._flush_every is not None:
            self.next_flush = _pc() + self._flush_every
        try:
            self._main_ident = threading.main_thread().ident
        except Exception:
            pass


def _inner(frames):
    """The frames inside the program's nearest own frame (stdlib, torch, installed packages)."""
    out = []
    for fr in frames:
        if fr[3] == 2 and _package_of(fr[0]) is None:
            break
        out.append(fr)
    return out


def _row_key(r):
    th = r["thread"]
    who = "main" if th.get("main") else (th.get("origin") or {}).get("label")
    return (r["code"], r["api"], r.get("loop"), who,
            tuple((f["file"], f["line"]) for f in r["stack"][:MERGE_FRAMES]))


def _merge(rows):
    """Rows of the same code, wait, thread origin and stack, from different threads, as one."""
    out = collections.OrderedDict()
    for r in rows:
        k = _row_key(r)
        m = out.get(k)
        if m is None:
            m = out[k] = dict(r, threads=set(r["threads"]), hist=dict(r.get("hist") or {}),
                              tests=list(r.get("tests") or []), thread_names=[r["thread"].get("name")])
            continue
        m["threads"] |= r["threads"]
        m["count"] += r["count"]
        for f in ("total_s", "raised", "calls", "never_recorded"):
            if f in r:
                m[f] = m.get(f, 0) + r[f]
        if "max_s" in r:
            m["max_s"] = max(m["max_s"], r["max_s"])
        for b, n in (r.get("hist") or {}).items():
            m["hist"][b] = m["hist"].get(b, 0) + n
        for t in r.get("tests") or []:
            if t not in m["tests"] and len(m["tests"]) < 5:
                m["tests"].append(t)
        if len(m["thread_names"]) < 8:
            m["thread_names"].append(r["thread"].get("name"))
    res = []
    for m in out.values():
        m["threads"] = len(m["threads"])
        if "hist" in m and m["hist"]:
            m["p95_s"] = round(percentile_from_hist(m["hist"], 0.95), 6)
            m["hist"] = {str(b): n for b, n in m["hist"].items()}
        else:
            m.pop("hist", None)
        for f in ("total_s", "max_s"):
            if f in m:
                m[f] = round(m[f], 6)
        if m["thread"].get("origin"):
            m["thread"] = dict(m["thread"], origin={k: v for k, v in m["thread"]["origin"].items() if k != "thread_name"})
        m["thread"].pop("name", None)
        res.append(m)
    return res


def _ns(torch, name):
    try:
        return getattr(torch, name, None)
    except Exception:
        return None


def _copy_values(d):
    for _ in range(5):
        try:
            return list(d.values())
        except RuntimeError:  # changed size during iteration (a daemon thread still running)
            continue
    return []


def _thread_info(st, origin):
    if st.is_main:
        return {"main": True, "name": st.name}
    return {"main": False, "name": st.name, "origin": origin}


def _callable_name(fn):
    try:
        f = fn
        for _ in range(3):
            inner = getattr(f, "func", None)  # functools.partial
            if inner is None:
                break
            args = getattr(f, "args", ())
            # asyncio.to_thread: partial(contextvars.Context.run, func, *args)
            if getattr(inner, "__qualname__", "") == "Context.run" and args:
                inner = args[0]
            f = inner
        name = getattr(f, "__qualname__", None) or getattr(f, "__name__", None)
        if name is None:
            name = type(f).__name__
        # a nested function by its own name, as the static witness names it (worker, not
        # test_x.<locals>.worker); methods keep their class (Server.run)
        return str(name).rsplit("<locals>.", 1)[-1]
    except Exception:
        return None


def _copy_meta(wrapper, orig):
    for attr in ("__name__", "__qualname__", "__doc__", "__module__"):
        try:
            setattr(wrapper, attr, getattr(orig, attr))
        except Exception:
            pass
    try:
        wrapper.__wrapped__ = orig
    except Exception:
        pass
