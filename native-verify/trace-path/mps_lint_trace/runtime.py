"""Installs the tracer into this interpreter, and hands its record over when the process ends.

`install()` is called by sitecustomize (under `mps-lint trace`) or by the pytest plugin. It
installs at once what costs nothing (threading.Thread.start), and the rest when the module it
needs is imported: torch (the waits and Events), concurrent.futures.thread (the per-task origin
of executor threads), multiprocessing.util (forked workers report too). Importing torch or
asyncio is never done here: a program that does not import torch is traced for nothing.

Where the record goes:
* under `mps-lint trace`: the environment variable MPS_LINT_TRACE holds `host:port:token` of the
  driver, which listens on the loopback interface; each process sends its record there when it
  exits (atexit, or multiprocessing's finalizers in a forked worker). No file is written.
* under the pytest plugin alone: the plugin writes the record to the file it was given.
"""

import atexit
import os
import sys

from .core import Tracer

ENV_ADDR = "MPS_LINT_TRACE"
ENV_DEVICE = "MPS_LINT_TRACE_DEVICE"

_tracer = None
_NATIVE_VERIFY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def tracer():
    return _tracer


class _AfterImport(object):
    """A meta path finder that runs a callback once a watched module has executed. It only
    wraps the real loader's exec_module; finding and loading stay the other finders'."""

    def __init__(self, tr):
        self.tr = tr
        self.callbacks = {}

    def find_spec(self, name, path=None, target=None):
        cb = self.callbacks.get(name)
        if cb is None:
            return None
        spec = None
        for finder in list(sys.meta_path):
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                break
        if spec is None:
            return None
        loader = spec.loader
        orig = getattr(loader, "exec_module", None)
        if orig is None:
            return spec
        tr = self.tr
        callbacks = self.callbacks

        def exec_module(module):
            orig(module)
            fn = callbacks.pop(name, None)
            if fn is not None:
                try:
                    fn(module)
                except Exception as e:
                    tr.error("after import of %s" % name, e)
        try:
            loader.exec_module = exec_module
        except Exception:
            pass
        return spec

    def when_imported(self, name, fn):
        mod = sys.modules.get(name)
        if mod is not None:
            try:
                fn(mod)
            except Exception as e:
                self.tr.error("install on %s" % name, e)
            return
        self.callbacks[name] = fn
        if self not in sys.meta_path:
            sys.meta_path.insert(0, self)


def _load_retarget():
    """mps_lint_verify's re-targeting (instrument.py, devices.py), loaded from its files under
    private names: native-verify itself never goes on sys.path (its tests/ would shadow the
    program's own `tests` package)."""
    import importlib.util
    import types
    mods = types.SimpleNamespace()
    for name in ("devices", "instrument"):
        path = os.path.join(_NATIVE_VERIFY, "mps_lint_verify", name + ".py")
        spec = importlib.util.spec_from_file_location("_mps_lint_trace_" + name, path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        setattr(mods, name, mod)
    return mods


def install(mode="trace", device=None):
    """Install the hooks once per process. Never raises."""
    global _tracer
    if _tracer is not None:
        return _tracer
    tr = Tracer(mode)
    _tracer = tr
    try:
        tr.install_threads()
    except Exception as e:
        tr.error("install threads", e)
    hooks = _AfterImport(tr)
    tr.after_import = hooks
    hooks.when_imported("concurrent.futures.thread", tr.install_executor)

    def on_torch(torch):
        retarget = None
        if device:
            try:
                write = sys.dont_write_bytecode
                sys.dont_write_bytecode = True
                try:
                    retarget = _load_retarget()
                finally:
                    sys.dont_write_bytecode = write
            except Exception as e:
                tr.notes.append("re-targeting unavailable: %s: %s" % (type(e).__name__, e))
        tr.install_torch(torch, device, retarget)
    hooks.when_imported("torch", on_torch)
    hooks.when_imported("multiprocessing.util", lambda util: _after_fork_finalizer(tr, util))
    try:
        os.register_at_fork(after_in_child=tr.reset_after_fork)
    except Exception:
        pass
    return tr


def _after_fork_finalizer(tr, util):
    """A multiprocessing worker started by fork leaves through os._exit (no atexit): report
    from its finalizers instead (they run after the target, before os._exit)."""
    def in_child(obj):
        try:
            util.Finalize(obj, _flush_to_driver, exitpriority=-1000)
        except Exception as e:
            tr.error("multiprocessing finalizer", e)
    util.register_after_fork(tr, in_child)


_flushed_pid = None
_sent = [0]  # snapshots sent by this process (each is cumulative; the driver keeps the last)
# A process killed by a signal never reaches atexit: while it runs, the hooks send a snapshot at
# most this often (from whichever thread is in a hook then), so such a process still reports
# what it had seen up to then.
FLUSH_INTERVAL_S = float(os.environ.get("MPS_LINT_TRACE_FLUSH_S") or 10.0)


def _send(final):
    tr = _tracer
    addr = os.environ.get(ENV_ADDR)
    if tr is None or not addr:
        return
    import json
    import socket
    host, port, token = addr.rsplit(":", 2)
    snap = tr.snapshot()
    _sent[0] += 1
    snap["seq"] = _sent[0]
    snap["final"] = final
    data = json.dumps(snap, default=str)
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall((token + "\n" + data).encode("utf-8"))
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def _flush_to_driver(*_a):
    """Send this process's final record to `mps-lint trace` (once per process). Never raises."""
    global _flushed_pid
    if _tracer is None or _flushed_pid == os.getpid():
        return
    _flushed_pid = os.getpid()
    try:
        _send(True)
    except Exception:
        pass


def _periodic_flush():
    try:
        _send(False)
    except Exception:
        pass


def write_file(path):
    """Write this process's record to `path` (the pytest plugin's output), atomically."""
    import json
    tr = _tracer
    if tr is None:
        return
    path = os.path.abspath(path)
    tmp = "%s.%d.tmp" % (path, os.getpid())
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(tr.snapshot(), f, default=str)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            try:
                os.unlink(tmp)
            except OSError:
                pass


def install_from_environment():
    """sitecustomize's entry: trace this process when `mps-lint trace` asked for it."""
    if not os.environ.get(ENV_ADDR):
        return None
    tr = install("trace", os.environ.get(ENV_DEVICE) or None)
    atexit.register(_flush_to_driver)
    tr.set_periodic_flush(_periodic_flush, FLUSH_INTERVAL_S)
    return tr
