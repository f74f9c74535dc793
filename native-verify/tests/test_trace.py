"""The runtime witness (native-verify/trace-path) with the real torch of this interpreter, on the
fixtures in fixtures/trace/ (threads, executors, asyncio.to_thread, event loops). Each program
runs in a fresh interpreter with the hooks injected as `mps-lint trace` injects them
(PYTHONPATH + MPS_LINT_TRACE), and its record comes back over a loopback socket as it would to
the driver. No mocks.

Run: cd native-verify && PYTHONPATH=. python3 -m unittest discover -s tests -t . -v
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TRACE_PATH = os.path.join(os.path.dirname(HERE), "trace-path")
FX = os.path.realpath(os.path.join(HERE, "..", "..", "fixtures", "trace"))
sys.path.insert(0, TRACE_PATH)

from mps_lint_trace import core  # noqa: E402


def _tree(root):
    return sorted(os.path.relpath(os.path.join(dp, f), root) for dp, dns, fns in os.walk(root) for f in fns + dns)


TRACE_TREE = _tree(TRACE_PATH)


class Listener(object):
    """The driver's side: a loopback server collecting `token\\n{json}` payloads."""

    def __init__(self):
        self.token = "t0ken"
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.records = []
        self.t = threading.Thread(target=self._accept, daemon=True)
        self.t.start()

    @property
    def address(self):
        return "127.0.0.1:%d:%s" % (self.srv.getsockname()[1], self.token)

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            data = b""
            while True:
                b = c.recv(65536)
                if not b:
                    break
                data += b
            c.close()
            tok, _, body = data.decode("utf-8").partition("\n")
            if tok == self.token:
                self.records.append(json.loads(body))

    def close(self):
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.srv.close()


def trace_env(address, device="cpu", extra_path=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = TRACE_PATH + (os.pathsep + extra_path if extra_path else "")
    env["MPS_LINT_TRACE"] = address
    if device:
        env["MPS_LINT_TRACE_DEVICE"] = device
    else:
        env.pop("MPS_LINT_TRACE_DEVICE", None)
    return env


def run_traced(argv, device="cpu", cwd=None, env_extra=None, extra_path=None):
    lis = Listener()
    try:
        env = trace_env(lis.address, device, extra_path)
        env.update(env_extra or {})
        p = subprocess.run([sys.executable] + argv, cwd=cwd or FX, env=env, capture_output=True, text=True, timeout=120)
        # records are sent at exit (and while it runs); the accept thread may still be reading
        # some: wait until none has come for 0.3 s
        seen, quiet = -1, 0
        for _ in range(200):
            n = len(lis.records)
            quiet = quiet + 1 if n == seen and n > 0 else 0
            seen = n
            if quiet >= 6:
                break
            threading.Event().wait(0.05)
        return p, latest(lis.records)
    finally:
        lis.close()


def latest(records):
    """Each process's last snapshot (a long run also sends some while it runs), as the driver keeps."""
    out = {}
    for r in records:
        k = (r["pid"], r["started"])
        if k not in out or r["seq"] > out[k]["seq"]:
            out[k] = r
    return sorted(out.values(), key=lambda r: r["pid"])


def obs(rec, code, line=None):
    out = [o for o in rec["observations"] if o["code"] == code]
    if line is not None:
        out = [o for o in out if o["site"] and o["site"]["line"] == line]
    return out


class Fixtures(unittest.TestCase):
    def test_threads(self):
        p, recs = run_traced(["threads_sync.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(recs), 1)
        rec = recs[0]
        self.assertEqual(rec["hook_errors"], {})
        self.assertEqual(rec["device"], "cpu")
        self.assertIn("torch.mps.synchronize", rec["instrumented"])
        self.assertEqual([o["site"]["line"] for o in rec["observations"]], [13])
        o = obs(rec, "MPS001", 13)[0]
        self.assertEqual((o["count"], o["threads"]), (15, 3))
        self.assertFalse(o["thread"]["main"])
        self.assertEqual(o["thread"]["origin"]["kind"], "threading.Thread")
        self.assertEqual(o["thread"]["origin"]["label"], "threading.Thread(target=worker)")
        self.assertEqual(o["thread"]["origin"]["site"]["line"], 27)
        self.assertEqual(o["stack"][0]["func"], "worker")
        self.assertGreaterEqual(o["p95_s"], 0)
        self.assertGreaterEqual(o["total_s"], o["max_s"])
        # the main thread's wait (line 30) is no finding; the event-synced workers are silent
        self.assertEqual([w["site"]["line"] for w in rec["main_waits"]], [30])

    def test_executor_origins(self):
        p, recs = run_traced(["executor_sync.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("sum 48.0", p.stdout)
        rec = recs[0]
        kinds = {o["site"]["line"]: o["thread"]["origin"] for o in obs(rec, "MPS001")}
        self.assertEqual(sorted(kinds), [11, 16, 22])
        self.assertEqual(kinds[11]["label"], "ThreadPoolExecutor.submit(infer)")
        self.assertEqual(kinds[11]["site"]["line"], 26)
        self.assertEqual(kinds[16]["label"], "ThreadPoolExecutor.map(mapped)")
        self.assertEqual(kinds[22]["kind"], "Loader (threading.Thread subclass)")
        self.assertEqual(sum(o["count"] for o in obs(rec, "MPS001", 11)), 4)
        self.assertEqual(rec["main_waits"], [])

    def test_asyncio(self):
        p, recs = run_traced(["asyncio_sync.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = recs[0]
        blocking = obs(rec, "MPS001", 11)
        self.assertEqual(sorted(o["thread"]["origin"]["kind"] for o in blocking), ["asyncio.to_thread", "loop.run_in_executor"])
        self.assertTrue(all(o["thread"]["origin"]["site"]["func"] == "serve" for o in blocking))
        self.assertTrue(all(not o["loop"] for o in blocking))
        # the main thread's loop: MPS006 only, never MPS001
        on_loop = obs(rec, "MPS006", 17)
        self.assertEqual(len(on_loop), 1)
        self.assertTrue(on_loop[0]["thread"]["main"])
        self.assertEqual(on_loop[0]["api"], "torch.mps.Event.synchronize")
        self.assertTrue(on_loop[0]["stack"][0].get("async"))
        self.assertFalse(any(o["thread"]["main"] for o in obs(rec, "MPS001")))
        # an event loop in a worker thread: both
        self.assertEqual(len(obs(rec, "MPS001", 27)), 1)
        in_thread = obs(rec, "MPS006", 27)
        self.assertEqual(len(in_thread), 1)
        self.assertFalse(in_thread[0]["thread"]["main"])

    def test_shared_event_and_handoff(self):
        p, recs = run_traced(["shared_event.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = recs[0]
        shared = obs(rec, "MPS003")
        self.assertEqual(len(shared), 1)
        self.assertEqual(shared[0]["created"][0]["line"], 7)
        self.assertEqual(shared[0]["max_threads"], 3)
        self.assertEqual(shared[0]["ops"], {"record": 9, "synchronize": 9})
        # recorded once on the main thread, waited on by a worker: a hand-off, not MPS003
        self.assertEqual([h["created"][0]["line"] for h in rec["event_handoffs"]], [26])

    def test_elapsed_time(self):
        p, recs = run_traced(["elapsed.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        rec = recs[0]
        self.assertEqual([(o["site"]["line"], o["count"], o["calls"]) for o in obs(rec, "MPS007")], [(14, 2, 2)])

    def test_exit_status_and_record_of_failing_program(self):
        p, recs = run_traced(["exit_code.py"])
        self.assertEqual(p.returncode, 3)
        self.assertEqual(len(obs(recs[0], "MPS001", 9)), 1)

    def test_multiprocessing_workers_report(self):
        p, recs = run_traced(["mp_workers.py"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.split(), ["fork", "4", "spawn", "4"])
        found = [o for r in recs for o in obs(r, "MPS001", 11)]
        # forked workers report from multiprocessing's finalizers, spawned ones at exit
        self.assertEqual(sum(o["count"] for o in found), 8)
        self.assertGreaterEqual(len({r["pid"] for r in recs if obs(r, "MPS001", 11)}), 2)
        # a thread started by code that runs in a pool worker is that code's Thread, not the pool's
        self.assertEqual({o["thread"]["origin"]["label"] for o in found}, {"threading.Thread(target=sync)"})
        self.assertEqual({o["thread"]["origin"]["site"]["line"] for o in found}, {16})

    def test_killed_process_reports_its_last_snapshot(self):
        p, recs = run_traced(["killed.py"], env_extra={"MPS_LINT_TRACE_FLUSH_S": "0.1"})
        self.assertEqual(p.returncode, -15)  # SIGTERM, as untraced
        self.assertGreaterEqual(len(recs), 1)
        self.assertEqual(len(recs), 1)
        last = recs[0]
        self.assertFalse(last["final"])
        self.assertEqual([o["count"] for o in obs(last, "MPS001", 14)], [3])

    def test_subprocesses_report_too(self):
        code = ("import subprocess, sys; "
                "sys.exit(subprocess.call([sys.executable, 'threads_sync.py']))")
        p, recs = run_traced(["-c", code])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(recs), 2)
        self.assertEqual(sorted(len(r["observations"]) for r in recs), [0, 1])


class Safety(unittest.TestCase):
    def test_untraced_and_traced_output_identical_without_retargeting(self):
        # Without --device nothing is re-targeted: the program must see the same torch.
        prog = (
            "import threading, torch, sys\n"
            "out = []\n"
            "def w():\n"
            "    try:\n"
            "        torch.cuda.synchronize()\n"
            "    except Exception as e:\n"
            "        out.append(type(e).__name__)\n"
            "t = threading.Thread(target=w, name='w1'); t.start(); t.join()\n"
            "print(out, threading.active_count(), t.name, torch.cuda.synchronize.__name__)\n"
            "print(sorted(k for k in sys.modules if k.startswith('asyncio'))[:1])\n"
            "raise SystemExit(5)\n")
        d = tempfile.mkdtemp()
        try:
            path = os.path.join(d, "prog.py")
            with open(path, "w") as f:
                f.write(prog)
            # bytecode writing on, as on most machines: the traced run must write what the plain one does
            env = dict(os.environ)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            plain = subprocess.run([sys.executable, path], env=env, capture_output=True, text=True, timeout=120)
            p, recs = run_traced([path], device=None, cwd=d, env_extra={"PYTHONDONTWRITEBYTECODE": ""})
            self.assertEqual(plain.returncode, 5)
            self.assertEqual(p.returncode, 5)
            self.assertEqual(p.stdout, plain.stdout)
            self.assertEqual(len(recs), 1)
            self.assertIsNone(recs[0]["device"])
            o = obs(recs[0], "MPS001")
            self.assertEqual(len(o), 1)
            self.assertEqual(o[0]["raised"], 1)  # the wait raised (no CUDA), and was still seen
            self.assertEqual(os.listdir(d), ["prog.py"])  # nothing written beside the program
            # nor into the hooks' own folder (its __pycache__ entries are files: no bytecode cache)
            self.assertEqual(_tree(TRACE_PATH), TRACE_TREE)
        finally:
            shutil.rmtree(d)

    def test_hook_failure_never_reaches_the_program(self):
        tr = core.Tracer()
        calls = []

        def sync(x=None):
            calls.append(x)
            return "result"

        def boom(*a, **k):
            raise ValueError("bookkeeping failed")
        wrapped = tr.wrap_device_sync(sync, "torch.test.synchronize")
        tr.on_wait = boom
        self.assertEqual(wrapped(7), "result")
        self.assertEqual(calls, [7])
        self.assertEqual(tr.hook_errors, {"torch.test.synchronize: ValueError": 1})

    def test_original_exception_passes_through_unchanged(self):
        tr = core.Tracer()
        err = RuntimeError("device not ready")

        def sync():
            raise err
        wrapped = tr.wrap_device_sync(sync, "torch.test.synchronize")
        with self.assertRaises(RuntimeError) as cm:
            wrapped()
        self.assertIs(cm.exception, err)
        snap = tr.snapshot()
        self.assertEqual(snap["main_waits"][0]["raised"], 1)

    def test_builtin_event_type_is_left_alone(self):
        # torch.Event (torch >= 2.3) is a builtin type; torch._C.Generator, a real immutable
        # torch type, stands in for it on torch 1.13. Nothing may be replaced or changed.
        import torch
        base = torch._C.Generator
        before = dict(base.__dict__)
        tr = core.Tracer()
        self.assertIsNone(tr.patch_event_class(base, "torch.Generator"))
        self.assertEqual(dict(base.__dict__), before)
        self.assertIs(torch._C.Generator, base)
        self.assertIn("builtin type: not instrumented", tr.notes[0])

    def test_sitecustomize_chains_to_the_one_it_shadows(self):
        d = tempfile.mkdtemp()
        try:
            with open(os.path.join(d, "sitecustomize.py"), "w") as f:
                f.write("import os\nos.environ['CHAINED_SITECUSTOMIZE'] = 'ran'\n")
            code = "import os, sitecustomize; print(os.environ.get('CHAINED_SITECUSTOMIZE'), sitecustomize.__file__)"
            p, recs = run_traced(["-c", code], device=None, cwd=d, extra_path=d)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["ran", os.path.join(d, "sitecustomize.py")])
            self.assertEqual(len(recs), 1)
        finally:
            shutil.rmtree(d)

    def test_inert_without_the_driver(self):
        env = dict(os.environ, PYTHONPATH=TRACE_PATH)
        env.pop("MPS_LINT_TRACE", None)
        p = subprocess.run([sys.executable, "-c", "import sys, threading; print('mps_lint_trace' in sys.modules, "
                            "threading.Thread.start.__module__)"], env=env, capture_output=True, text=True, timeout=60)
        self.assertEqual(p.stdout.split(), ["False", "threading"])


class Histogram(unittest.TestCase):
    def test_p95_within_two_percent(self):
        hist = {}
        xs = [i / 1000.0 for i in range(1, 1001)]  # 1 ms .. 1 s
        for x in xs:
            b = core._bucket(x)
            hist[b] = hist.get(b, 0) + 1
        p95 = core.percentile_from_hist(hist, 0.95)
        self.assertGreaterEqual(p95, 0.95)
        self.assertLessEqual(p95, 0.95 * 1.02 * 1.02)

    def test_merge_adds_threads_of_one_site(self):
        rows = [{"code": "MPS001", "api": "a", "loop": False, "site": {"file": "f", "line": 1},
                 "stack": [{"file": "f", "line": 1}], "count": 2, "total_s": 0.5, "max_s": 0.3,
                 "hist": {core._bucket(0.2): 1, core._bucket(0.3): 1}, "raised": 0,
                 "thread": {"main": False, "name": "t%d" % i, "origin": {"label": "L", "kind": "k"}},
                 "tests": [], "threads": {i}} for i in range(3)]
        m = core._merge(rows)
        self.assertEqual(len(m), 1)
        self.assertEqual((m[0]["count"], m[0]["threads"], m[0]["total_s"], m[0]["max_s"]), (6, 3, 1.5, 0.3))


def _has_pytest():
    return subprocess.run([sys.executable, "-c", "import pytest"], capture_output=True).returncode == 0


class PytestPlugin(unittest.TestCase):
    def setUp(self):
        if not _has_pytest():
            if os.environ.get("CI"):
                self.fail("%s cannot import pytest (apt-get install python3-pytest)" % sys.executable)
            self.skipTest("pytest is not installed for %s" % sys.executable)

    def test_plugin_writes_its_record_and_keeps_the_exit_status(self):
        d = tempfile.mkdtemp()
        try:
            suite = os.path.join(d, "suite")
            shutil.copytree(os.path.join(FX, "suite"), suite)
            out = os.path.join(d, "rec.json")
            # only our plugin (-p): none that this environment autoloads (pytest-benchmark's folder...)
            env = dict(os.environ, PYTHONPATH=TRACE_PATH, TRACE_FIXTURE_FAIL="1", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
            env.pop("MPS_LINT_TRACE", None)
            p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "mps_lint_trace",
                                "--mps-lint-trace", out, "--mps-lint-trace-device", "cpu", suite],
                               cwd=d, env=env, capture_output=True, text=True, timeout=180)
            self.assertEqual(p.returncode, 1, p.stdout + p.stderr)  # one test fails on purpose
            self.assertIn("3 passed", p.stdout)
            with open(out) as f:
                rec = json.load(f)
            self.assertEqual(rec["mode"], "pytest")
            o = obs(rec, "MPS001", 13)
            self.assertEqual(sum(x["count"] for x in o), 5)
            tests = sorted(t.split("::")[-1] for x in o for t in x["tests"])
            self.assertEqual(tests, ["test_pool", "test_to_thread"])
            self.assertFalse(any(x["thread"]["main"] for x in o))
            self.assertEqual([w["tests"] for w in rec["main_waits"]], [[t for t in rec["main_waits"][0]["tests"]]])
            self.assertTrue(rec["main_waits"][0]["tests"][0].endswith("::test_main_thread_only"))
            self.assertEqual(sorted(os.listdir(d)), ["rec.json", "suite"])
        finally:
            shutil.rmtree(d)


if __name__ == "__main__":
    unittest.main()
