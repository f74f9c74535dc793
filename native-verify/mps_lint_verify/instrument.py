"""Instrumentation installed into the target process (see harness.py).

Everything here wraps only what exists in the running torch: torch 1.13 has no torch.mps,
torch.Event or torch.accelerator; torch 2.x has all of them. Where the selected device has no
Event type (CPU), a CPU stand-in Event is installed and instrumented by the same code path.
"""

import collections
import functools
import itertools
import os
import sys
import threading
import time
import traceback
import types

_pc = time.perf_counter

# Device-sync namespaces the issue names: torch.{mps,cuda,xpu,accelerator}.synchronize.
SYNC_NAMESPACES = ("mps", "cuda", "xpu", "accelerator")

# Factory functions whose `device=` keyword is re-targeted.
FACTORIES = (
    "tensor", "as_tensor", "asarray", "zeros", "ones", "empty", "full", "rand", "randn",
    "randint", "randperm", "arange", "range", "linspace", "logspace", "eye", "zeros_like",
    "ones_like", "empty_like", "full_like", "rand_like", "randn_like", "randint_like",
    "empty_strided", "scalar_tensor", "tril_indices", "triu_indices", "normal",
    "sparse_coo_tensor", "from_file", "frombuffer",
)
TENSOR_NEW = ("new_tensor", "new_zeros", "new_ones", "new_empty", "new_full", "new_empty_strided")

EVENT_METHODS = ("record", "synchronize", "wait", "query")

_HERE = os.path.dirname(os.path.abspath(__file__))


class CpuEvent(object):
    """CPU stand-in for torch.{mps,cuda}.Event, used where the selected device has no Event
    type. CPU ops complete synchronously, so record() notes a timestamp and synchronize()
    returns at once; the instrumentation around it (who created it, which threads record and
    synchronize it) is the same as for a real Event."""

    def __init__(self, enable_timing=False, blocking=False, interprocess=False):
        self.enable_timing = enable_timing
        self._t = None

    def record(self, stream=None):
        self._t = _pc()

    def synchronize(self):
        return None

    def wait(self, stream=None):
        return None

    def query(self):
        return True

    def elapsed_time(self, end_event):
        if self._t is None or end_event._t is None:
            raise RuntimeError("Both events must be recorded before calculating elapsed time.")
        return (end_event._t - self._t) * 1000.0


def _fresh(fn):
    """A distinct function object that calls `fn` (see build_mps_shim: torch._dynamo rejects one
    object under two torch names with different rules)."""
    def call(*a, **k):
        return fn(*a, **k)
    call.__name__ = getattr(fn, "__name__", "call")
    call.__doc__ = getattr(fn, "__doc__", None)
    return call


def cpu_synchronize(device=None):
    """CPU stand-in for a device-wide synchronize(): there is no queue to drain."""
    return None


class _DummyStream(object):
    def __init__(self, *a, **k):
        pass

    def synchronize(self):
        return None

    def wait_event(self, event):
        return None

    def wait_stream(self, stream):
        return None

    def record_event(self, event=None):
        event = event if event is not None else CpuEvent()
        event.record(self)
        return event

    def query(self):
        return True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class EventInfo(object):
    __slots__ = ("api", "created", "creator", "threads", "ops", "use_sites")

    def __init__(self, api, created, creator):
        self.api = api
        self.created = created  # (file, line) or None
        self.creator = creator  # thread serial or None
        self.threads = set()
        self.ops = collections.Counter()
        self.use_sites = set()


class Instrumentation(object):
    def __init__(self, torch, device, mode, mapping, per_thread_streams, watch):
        self.torch = torch
        self.device = device
        self.mode = mode  # "as_written" | "event_sync"
        self.mapping = dict(mapping)  # device type -> device type, e.g. {"mps": "cuda"}
        self.per_thread_streams = per_thread_streams
        self.lock = threading.Lock()
        self.tls = threading.local()
        self._serials = itertools.count(1)
        self.thread_names = {}
        self.applied = collections.Counter()
        self.instrumented = []
        self.retargeted = []
        self.notes = []
        self._internal_files = {}
        self._torch_dir = os.path.dirname(os.path.abspath(torch.__file__)) + os.sep
        self._here = _HERE + os.sep
        self._event_info_fallback = {}
        self.event_class = None  # what the per-thread replacement creates
        self._raw_event_methods = None  # (record, synchronize) of event_class, un-instrumented
        # lean: timing runs. Only what both modes need runs in the wrappers (the main-thread
        # check and the replacement itself); no attribution, no frame walks, no lock.
        self.lean = False
        self._main = threading.main_thread()
        # watched lines: realpath -> set(lines); co_filename -> lines cache
        self.watch = {}
        for w in watch or []:
            self.watch.setdefault(os.path.realpath(w["file"]), set()).add(int(w["line"]))
        self._watch_by_co = {}
        self.reset()

    # ---------------------------------------------------------------- per-iteration state
    def reset(self):
        self.sites = {}
        self.event_infos = []
        self.reached = {}
        self.started_threads = []
        self.executors = []
        self.thread_exceptions = []
        self.events_created = 0
        # perf_counter() when the target started its first thread: the timed runs also report
        # the threaded section (first thread start to the end of the run), where the syncs are,
        # apart from the set-up before it (model building, imports), which both modes pay.
        self.first_thread_start = None

    def snapshot(self):
        sites = []
        for (f, ln, api, kind), s in self.sites.items():
            sites.append({
                "file": f, "line": ln, "api": api, "kind": kind,
                "calls": s["calls"], "threads": len(s["threads"]),
                "main_thread_calls": s["main"], "worker_calls": s["worker"],
                "worker_threads": len(s["worker_threads"]),
                "replaced_calls": s["replaced"],
                "blocked_s": round(s["blocked"], 6), "max_blocked_s": round(s["max"], 6),
            })
        sites.sort(key=lambda d: (d["file"], d["line"], d["api"]))
        by_created = collections.OrderedDict()
        for info in self.event_infos:
            key = info.created or ("<unknown>", 0)
            agg = by_created.get(key)
            if agg is None:
                agg = by_created[key] = {
                    "file": key[0], "line": key[1], "api": info.api, "events_used": 0,
                    "shared_events": 0, "max_threads_per_event": 0, "threads": set(),
                    "creator_threads": set(), "ops": collections.Counter(), "use_sites": set(),
                    "shared_use_sites": set(),
                }
            agg["events_used"] += 1
            n = len(info.threads)
            if n >= 2:
                agg["shared_events"] += 1
                agg["shared_use_sites"] |= info.use_sites
            agg["max_threads_per_event"] = max(agg["max_threads_per_event"], n)
            agg["threads"] |= info.threads
            if info.creator is not None:
                agg["creator_threads"].add(info.creator)
            agg["ops"].update(info.ops)
            agg["use_sites"] |= info.use_sites
        events = []
        for agg in by_created.values():
            events.append({
                "file": agg["file"], "line": agg["line"], "api": agg["api"],
                "events_used": agg["events_used"], "shared_events": agg["shared_events"],
                "shared": agg["shared_events"] > 0,
                "max_threads_per_event": agg["max_threads_per_event"],
                "threads": len(agg["threads"]),
                "creator_threads": [self.thread_names.get(t, str(t)) for t in sorted(agg["creator_threads"])],
                "ops": dict(agg["ops"]),
                "use_sites": [{"file": f, "line": ln} for f, ln in sorted(agg["use_sites"])],
                "shared_use_sites": [{"file": f, "line": ln} for f, ln in sorted(agg["shared_use_sites"])],
            })
        reached = [{"file": f, "line": ln, "threads": len(ts)} for (f, ln), ts in sorted(self.reached.items())]
        return {
            "sites": sites,
            "events": events,
            "reached": reached,
            "threads_started": len(self.started_threads),
            "threads_seen": len({t for s in self.sites.values() for t in s["threads"]}),
            "thread_exceptions": self.thread_exceptions[:5],
            "thread_exception_count": len(self.thread_exceptions),
        }

    # ---------------------------------------------------------------- helpers
    def thread(self):
        t = self.tls
        if getattr(t, "serial", None) is None:
            cur = threading.current_thread()
            t.serial = next(self._serials)
            t.is_main = cur is threading.main_thread()
            t.name = cur.name
            self.thread_names[t.serial] = cur.name
        return t

    def _internal(self, filename):
        r = self._internal_files.get(filename)
        if r is None:
            a = os.path.abspath(filename) if not filename.startswith("<") else filename
            r = a.startswith(self._torch_dir) or a.startswith(self._here) or filename.startswith("<frozen")
            self._internal_files[filename] = r
        return r

    def user_site(self, depth=2):
        f = sys._getframe(depth)
        while f is not None:
            fn = f.f_code.co_filename
            if not self._internal(fn):
                return (os.path.realpath(fn) if not fn.startswith("<") else fn, f.f_lineno)
            f = f.f_back
        return ("<unknown>", 0)

    def record_site(self, site, api, kind, th, dt, replaced=False):
        key = (site[0], site[1], api, kind)
        with self.lock:
            s = self.sites.get(key)
            if s is None:
                s = self.sites[key] = {"calls": 0, "blocked": 0.0, "max": 0.0, "threads": set(),
                                       "worker_threads": set(), "main": 0, "worker": 0,
                                       "replaced": 0}
            s["calls"] += 1
            s["blocked"] += dt
            if dt > s["max"]:
                s["max"] = dt
            s["threads"].add(th.serial)
            if th.is_main:
                s["main"] += 1
            else:
                s["worker"] += 1
                s["worker_threads"].add(th.serial)
            if replaced:
                s["replaced"] += 1
            self._mark_reached(site, th.serial)

    def _mark_reached(self, site, serial):
        if self.watch.get(site[0]) and site[1] in self.watch[site[0]]:
            self.reached.setdefault(site, set()).add(serial)

    # ---------------------------------------------------------------- device syncs
    def wrap_sync(self, orig, api):
        inst = self

        main = self._main

        def synchronize(*a, **k):
            if inst.lean:
                if inst.mode == "event_sync" and threading.current_thread() is not main:
                    inst.per_thread_event_sync()
                    return None
                return orig(*a, **k)
            th = inst.thread()
            site = inst.user_site()
            if inst.mode == "event_sync" and not th.is_main:
                t0 = _pc()
                inst.per_thread_event_sync()
                inst.record_site(site, api, "device_sync", th, _pc() - t0, replaced=True)
                return None
            t0 = _pc()
            r = orig(*a, **k)
            inst.record_site(site, api, "device_sync", th, _pc() - t0)
            return r

        try:
            functools.update_wrapper(synchronize, orig)
        except Exception:
            pass
        synchronize.__wrapped_by_mps_lint__ = True
        return synchronize

    def per_thread_event_sync(self):
        """The guide's Pattern 2 in its fast form: one event per thread, recorded on the
        thread's stream captured at the thread's first sync (CUDA), so no op pays a
        torch.cuda.current_stream() lookup. MPS events take no stream: record() as the guide.
        Not the text MPS001's fix writes (`_mps_lint_event_sync`, rules/support/per-thread-event.ts):
        that one keys its Events per thread and device and runs wherever the fixed sync ran;
        the differences are listed there."""
        tls = self.tls
        ev = getattr(tls, "event", None)
        if ev is None:
            ev = self.event_class()
            try:
                ev._mps_lint_internal = True
            except Exception:
                pass
            tls.event = ev
            tls.stream = self.torch.cuda.current_stream() if self.device == "cuda" else None
        record, synchronize = self._raw_event_methods or (type(ev).record, type(ev).synchronize)
        if tls.stream is not None:
            record(ev, tls.stream)
        else:
            record(ev)
        synchronize(ev)

    # ---------------------------------------------------------------- events
    def _set_info(self, ev, info):
        try:
            ev.__dict__["_mps_lint_info"] = info
        except AttributeError:
            self._event_info_fallback[id(ev)] = (ev, info)  # strong ref keeps id unique

    def _is_internal_event(self, ev):
        try:
            return ev.__dict__.get("_mps_lint_internal", False)
        except AttributeError:
            return False

    def instrument_event_class(self, cls, api):
        """Wrap __init__ and record/synchronize/wait/query of `cls` in place; for a builtin
        (immutable) type, return an instrumented subclass instead. Returns the class to install
        or None."""
        try:
            self._patch_event_class(cls, api)
            return cls
        except (TypeError, AttributeError):
            pass
        try:
            sub = type(cls.__name__, (cls,), {"__module__": getattr(cls, "__module__", None)})
            self._patch_event_class(sub, api)
            self.notes.append("%s is a builtin type: replaced by an instrumented subclass "
                              "(events created inside torch, e.g. Stream.record_event(), are not tracked)" % api)
            return sub
        except TypeError:
            self.notes.append("%s could not be instrumented" % api)
            return None

    def _patch_event_class(self, cls, api):
        if cls.__dict__.get("__mps_lint_patched__"):
            return
        inst = self
        orig_init = cls.__init__

        def __init__(ev, *a, **k):
            if orig_init is object.__init__:
                orig_init(ev)
            else:
                orig_init(ev, *a, **k)
            if inst.lean:
                return
            th = inst.thread()
            info = EventInfo(api, inst.user_site(), th.serial)
            inst._set_info(ev, info)

        setattr(cls, "__init__", __init__)  # raises TypeError on immutable builtin types
        for name in EVENT_METHODS:
            orig = getattr(cls, name, None)
            if orig is None:
                continue
            setattr(cls, name, self._event_method(orig, api, name))
        setattr(cls, "__mps_lint_patched__", True)
        self.instrumented.append(api + ".record/synchronize/wait/query")

    def _event_method(self, orig, api, name):
        inst = self
        full = api + "." + name
        kind = "event_" + name

        def method(ev, *a, **k):
            if inst.lean or inst._is_internal_event(ev):
                return orig(ev, *a, **k)
            th = inst.thread()
            site = inst.user_site()
            t0 = _pc()
            r = orig(ev, *a, **k)
            dt = _pc() - t0
            inst.record_site(site, full, kind, th, dt)
            info = None
            try:
                info = ev.__dict__.get("_mps_lint_info")
            except AttributeError:
                info = inst._event_info_fallback.get(id(ev), (None, None))[1]
            if info is None:
                info = EventInfo(api, None, None)
                inst._set_info(ev, info)
            with inst.lock:
                if not info.ops:
                    inst.event_infos.append(info)
                info.threads.add(th.serial)
                info.ops[name] += 1
                info.use_sites.add(site)
            return r

        method.__name__ = name
        return method

    # ---------------------------------------------------------------- retargeting
    def map_device(self, d):
        torch = self.torch
        if isinstance(d, str):
            typ, _, idx = d.partition(":")
            tgt = self.mapping.get(typ)
            if tgt:
                self.applied["device '%s' -> '%s'" % (typ, tgt)] += 1
                return tgt + (":" + idx if idx and tgt != "cpu" else "")
        elif isinstance(d, torch.device):
            tgt = self.mapping.get(d.type)
            if tgt:
                self.applied["device '%s' -> '%s'" % (d.type, tgt)] += 1
                if tgt != "cpu" and d.index is not None:
                    return torch.device(tgt, d.index)
                return torch.device(tgt)
        return d

    def _wrap_device_kw(self, orig):
        inst = self

        def f(*a, **k):
            d = k.get("device")
            if d is not None:
                k["device"] = inst.map_device(d)
            return orig(*a, **k)

        try:
            functools.update_wrapper(f, orig)
        except Exception:
            pass
        return f

    def _wrap_to(self, orig):
        inst = self
        torch = self.torch

        def to(obj, *a, **k):
            if a and isinstance(a[0], (str, torch.device)):
                a = (inst.map_device(a[0]),) + a[1:]
            d = k.get("device")
            if d is not None:
                k["device"] = inst.map_device(d)
            return orig(obj, *a, **k)

        try:
            functools.update_wrapper(to, orig)
        except Exception:
            pass
        return to

    def install_retarget(self):
        torch = self.torch
        if not self.mapping:
            return
        for name in FACTORIES:
            orig = getattr(torch, name, None)
            if callable(orig):
                setattr(torch, name, self._wrap_device_kw(orig))
        for name in TENSOR_NEW:
            orig = getattr(torch.Tensor, name, None)
            if orig is not None:
                setattr(torch.Tensor, name, self._wrap_device_kw(orig))
        torch.Tensor.to = self._wrap_to(torch.Tensor.to)
        torch.nn.Module.to = self._wrap_to(torch.nn.Module.to)
        if hasattr(torch, "set_default_device"):
            torch.set_default_device = self._wrap_device_kw_pos(torch.set_default_device)
        ac = getattr(torch, "autocast", None)
        if isinstance(ac, type):
            orig_ac_init = ac.__init__
            inst = self

            def ac_init(selfac, device_type, *a, **k):
                tgt = inst.mapping.get(device_type)
                if tgt:
                    inst.applied["autocast '%s' -> '%s'" % (device_type, tgt)] += 1
                    device_type = tgt
                return orig_ac_init(selfac, device_type, *a, **k)
            try:
                ac.__init__ = ac_init
            except Exception:
                pass
        if "cuda" in self.mapping:
            tgt = self.mapping["cuda"]
            inst = self

            def tensor_cuda(t, device=None, non_blocking=False, **k):
                inst.applied[".cuda() -> .to('%s')" % tgt] += 1
                return t.to(tgt, non_blocking=non_blocking)

            def module_cuda(m, device=None):
                inst.applied[".cuda() -> .to('%s')" % tgt] += 1
                return m.to(tgt)
            torch.Tensor.cuda = tensor_cuda
            torch.nn.Module.cuda = module_cuda
        self.retargeted.append("device strings and torch.device objects: " + ", ".join(
            "'%s' -> '%s'" % kv for kv in sorted(self.mapping.items())))

    def _wrap_device_kw_pos(self, orig):
        inst = self

        def f(device, *a, **k):
            return orig(inst.map_device(device), *a, **k)
        return f

    def _target_sync(self):
        torch = self.torch
        if self.device == "cuda":
            return torch.cuda.synchronize
        if self.device == "mps":
            return torch.mps.synchronize
        if self.device == "xpu":
            return torch.xpu.synchronize
        return cpu_synchronize

    def _target_event_class(self):
        torch = self.torch
        if self.device == "cuda":
            return torch.cuda.Event
        if self.device == "mps":
            return getattr(getattr(torch, "mps", None), "Event", None)
        if self.device == "xpu":
            return getattr(getattr(torch, "xpu", None), "Event", None)
        return None

    def build_mps_shim(self):
        """torch.mps re-targeted to the selected device (installed when 'mps' is mapped)."""
        torch = self.torch
        orig_mod = getattr(torch, "mps", None)
        shim = types.ModuleType("torch.mps")
        shim.__doc__ = "mps-lint verify: torch.mps re-targeted to %s" % self.device
        dev = self.device
        ev_cls = self._target_event_class() or CpuEvent
        # Every attribute is a new object, never the torch.cuda one itself: torch._dynamo's trace
        # rules (read lazily, e.g. when torch.profiler starts) map each torch object to one rule
        # and raise "Duplicate torch object ... with different rules" when torch.mps.X is
        # torch.cuda.X (seen on torch 2.11).
        shim.synchronize = _fresh(self._target_sync())
        shim.Event = type("Event", (ev_cls,), {"__module__": "torch.mps"})
        if dev == "cuda":
            c = torch.cuda
            shim.manual_seed = _fresh(c.manual_seed)
            shim.seed = _fresh(c.seed)
            shim.empty_cache = _fresh(c.empty_cache)
            shim.current_allocated_memory = _fresh(c.memory_allocated)
            shim.driver_allocated_memory = _fresh(c.memory_reserved)
            shim.recommended_max_memory = lambda: c.get_device_properties(0).total_memory
            shim.set_per_process_memory_fraction = _fresh(c.set_per_process_memory_fraction)
            shim.get_rng_state = _fresh(c.get_rng_state)
            shim.set_rng_state = _fresh(c.set_rng_state)
            shim.device_count = _fresh(c.device_count)
        else:
            shim.manual_seed = _fresh(torch.manual_seed)
            shim.seed = _fresh(torch.seed)
            shim.empty_cache = lambda: None
            shim.current_allocated_memory = lambda: 0
            shim.driver_allocated_memory = lambda: 0
            shim.recommended_max_memory = lambda: 0
            shim.set_per_process_memory_fraction = lambda fraction: None
            shim.get_rng_state = _fresh(torch.get_rng_state)
            shim.set_rng_state = _fresh(torch.set_rng_state)
            shim.device_count = lambda: 1
        shim.is_available = lambda: True

        def __getattr__(name):
            if orig_mod is not None and hasattr(orig_mod, name):
                return getattr(orig_mod, name)
            raise AttributeError("module 'torch.mps' (re-targeted by mps-lint verify to %s) has no attribute %r" % (dev, name))
        shim.__getattr__ = __getattr__
        return shim

    def install_namespaces(self):
        """Re-target torch.mps / torch.cuda namespaces where mapped; provide stand-ins."""
        torch = self.torch
        if "mps" in self.mapping:
            shim = self.build_mps_shim()
            torch.mps = shim
            sys.modules["torch.mps"] = shim
            b = getattr(torch.backends, "mps", None)
            if b is not None:
                b.is_available = lambda: True
                b.is_built = lambda: True
            self.retargeted.append("torch.mps.* -> %s (synchronize, Event, memory, seeding); "
                                   "torch.backends.mps.is_available() -> True" % (
                                       "torch.cuda.*" if self.device == "cuda" else
                                       "CPU stand-ins" if self.device == "cpu" else self.device))
        if "cuda" in self.mapping:
            c = torch.cuda
            c.synchronize = self._target_sync()
            tgt_ev = self._target_event_class()
            if tgt_ev is None:
                c.Event = CpuEvent
            else:
                c.Event = tgt_ev
            if self.device == "cpu":
                c.Stream = _DummyStream
                c.stream = lambda s=None: _DummyStream()
                c.current_stream = lambda device=None: _DummyStream()
                c.default_stream = lambda device=None: _DummyStream()
                c.set_stream = lambda s: None
            self.retargeted.append("torch.cuda.synchronize/Event%s -> %s" % (
                "/Stream" if self.device == "cpu" else "", self.device if self.device != "cpu" else "CPU stand-ins"))
        if "xpu" in self.mapping and getattr(torch, "xpu", None) is not None:
            try:
                torch.xpu.synchronize = self._target_sync()
            except Exception:
                pass

    def install_syncs_and_events(self):
        torch = self.torch
        self.raw_sync = self._target_sync()
        raw_ev = self._target_event_class()
        if raw_ev is not None:
            self._raw_event_methods = (raw_ev.record, raw_ev.synchronize)
        # Events: every Event type that exists, plus the CPU stand-in.
        seen = set()
        for ns_name in ("mps", "cuda", "xpu"):
            ns = getattr(torch, ns_name, None)
            cls = getattr(ns, "Event", None) if ns is not None else None
            if cls is None or not isinstance(cls, type):
                continue
            label = "torch.%s.Event" % ns_name
            if cls is CpuEvent:
                label = "torch.%s.Event(cpu stand-in)" % ns_name
            if id(cls) in seen:
                continue
            seen.add(id(cls))
            new = self.instrument_event_class(cls, label)
            if new is not None and new is not cls:
                setattr(ns, "Event", new)
        gen = getattr(torch, "Event", None)
        if isinstance(gen, type) and id(gen) not in seen:
            new = self.instrument_event_class(gen, "torch.Event")
            if new is not None and new is not gen:
                torch.Event = new
        if id(CpuEvent) not in seen:
            self.instrument_event_class(CpuEvent, "Event(cpu stand-in)")
        # Device-wide syncs.
        for ns_name in SYNC_NAMESPACES:
            ns = getattr(torch, ns_name, None)
            fn = getattr(ns, "synchronize", None) if ns is not None else None
            if fn is None or getattr(fn, "__wrapped_by_mps_lint__", False):
                continue
            try:
                setattr(ns, "synchronize", self.wrap_sync(fn, "torch.%s.synchronize" % ns_name))
                self.instrumented.append("torch.%s.synchronize" % ns_name)
            except Exception as e:  # pragma: no cover
                self.notes.append("could not wrap torch.%s.synchronize: %s" % (ns_name, e))
        # What the per-thread replacement uses.
        ev = self._target_event_class()
        if ev is None:
            ev = CpuEvent
            if self.device == "cpu":
                self.notes.append("no Event type on cpu: the per-thread event sync uses the CPU stand-in Event")
            else:
                self.notes.append("torch %s has no %s Event type: the per-thread event sync uses the CPU stand-in Event"
                                  % (torch.__version__, self.device))
        elif self.device == "cuda":
            ev = torch.cuda.Event
        self.event_class = ev

    # ---------------------------------------------------------------- threads
    def install_threads(self):
        inst = self
        torch = self.torch
        orig_start = threading.Thread.start
        orig_boot = threading.Thread._bootstrap_inner

        def start(th):
            if not getattr(th, "_mps_lint_internal", False):
                with inst.lock:
                    if inst.first_thread_start is None:
                        inst.first_thread_start = time.perf_counter()
                    inst.started_threads.append(th)
            return orig_start(th)

        def _bootstrap_inner(th):
            if inst.per_thread_streams and not getattr(th, "_mps_lint_internal", False):
                try:
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.default_stream())
                    torch.cuda.set_stream(s)
                except Exception:
                    pass
            return orig_boot(th)

        threading.Thread.start = start
        threading.Thread._bootstrap_inner = _bootstrap_inner

        orig_hook = threading.excepthook

        def excepthook(args):
            if not getattr(args.thread, "_mps_lint_internal", False):
                with inst.lock:
                    inst.thread_exceptions.append({
                        "thread": getattr(args.thread, "name", "?"),
                        "error": "".join(traceback.format_exception_only(args.exc_type, args.exc_value)).strip(),
                    })
            return orig_hook(args)
        threading.excepthook = excepthook

        import concurrent.futures as cf
        orig_tpe_init = cf.ThreadPoolExecutor.__init__

        def tpe_init(ex, *a, **k):
            orig_tpe_init(ex, *a, **k)
            with inst.lock:
                inst.executors.append(ex)
        cf.ThreadPoolExecutor.__init__ = tpe_init
        if self.per_thread_streams:
            self.retargeted.append("one CUDA stream per worker thread (created at thread start, "
                                   "ordered after the default stream)")

    def finish_threads(self):
        """What interpreter exit would do: shut down executors, join non-daemon threads."""
        for ex in list(self.executors):
            try:
                ex.shutdown(wait=True)
            except Exception:
                pass
        main = threading.main_thread()
        for th in list(self.started_threads):
            if th is not main and not th.daemon and th.is_alive():
                th.join()

    # ---------------------------------------------------------------- reach tracing
    def _watched_lines(self, co_filename):
        r = self._watch_by_co.get(co_filename, False)
        if r is False:
            r = None if co_filename.startswith("<") else self.watch.get(os.path.realpath(co_filename))
            self._watch_by_co[co_filename] = r
        return r

    def start_tracing(self):
        if not self.watch:
            return
        inst = self

        def local(frame, event, arg):
            if event == "line":
                lines = inst._watched_lines(frame.f_code.co_filename)
                ln = frame.f_lineno
                if lines and ln in lines:
                    serial = inst.thread().serial
                    key = (os.path.realpath(frame.f_code.co_filename), ln)
                    with inst.lock:
                        inst.reached.setdefault(key, set()).add(serial)
            return local

        def glob(frame, event, arg):
            lines = inst._watched_lines(frame.f_code.co_filename)
            if not lines:
                return None
            if event == "call" and frame.f_code.co_firstlineno in lines:
                key = (os.path.realpath(frame.f_code.co_filename), frame.f_code.co_firstlineno)
                with inst.lock:
                    inst.reached.setdefault(key, set()).add(inst.thread().serial)
            return local

        threading.settrace(glob)
        sys.settrace(glob)
        # Tracing starts in frames entered from now on; the caller frame is the harness.

    def stop_tracing(self):
        sys.settrace(None)
        threading.settrace(None)

    def final_sync(self):
        """Drain the device queue (un-instrumented) so a run's wall time includes its work."""
        try:
            self.raw_sync()
        except Exception:
            pass
