"""Unit tests of the instrumentation against the real torch in this interpreter (no mocks).

Run: PYTHONPATH=native-verify python -m unittest discover -s native-verify/tests -t native-verify
"""

import threading
import unittest

import torch

from mps_lint_verify.instrument import CpuEvent, Instrumentation


def _inst(mode="as_written"):
    return Instrumentation(torch, "cpu", mode, {}, False, [])


class EventClassPatching(unittest.TestCase):
    def test_real_cuda_event_class_is_patched_in_place(self):
        # torch.cuda.Event exists on every build (a Python class); on a CPU-only build it
        # cannot be instantiated, but the in-place patch must still apply to the class.
        cls = torch.cuda.streams.Event
        saved = {k: cls.__dict__.get(k) for k in ("__init__", "record", "synchronize", "wait", "query")}
        try:
            inst = _inst()
            out = inst.instrument_event_class(cls, "torch.cuda.Event")
            self.assertIs(out, cls)
            self.assertIsNot(cls.__dict__["record"], saved["record"])
            self.assertTrue(cls.__dict__.get("__mps_lint_patched__"))
            self.assertIn("torch.cuda.Event.record/synchronize/wait/query", inst.instrumented)
        finally:
            for k, v in saved.items():
                if v is None:
                    if k in cls.__dict__:
                        delattr(cls, k)
                else:
                    setattr(cls, k, v)
            if "__mps_lint_patched__" in cls.__dict__:
                delattr(cls, "__mps_lint_patched__")

    def test_builtin_type_gets_instrumented_subclass(self):
        # torch.Event (torch>=2.3) is a builtin type; stand in torch._C.Generator, a real
        # immutable torch type, to exercise the subclass path on torch 1.13.
        base = torch._C.Generator
        inst = _inst()
        sub = inst.instrument_event_class(base, "torch.Generator")
        self.assertIsNot(sub, base)
        self.assertTrue(issubclass(sub, base))
        g = sub()
        self.assertEqual(g.__dict__["_mps_lint_info"].creator, inst.thread().serial)

    def test_shared_event_confirmed_across_threads(self):
        class Ev(CpuEvent):
            pass
        inst = _inst()
        inst.instrument_event_class(Ev, "TestEvent")
        shared = Ev()

        def use():
            shared.record()
            shared.synchronize()
        ts = [threading.Thread(target=use) for _ in range(3)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        own = Ev()
        own.record()
        snap = inst.snapshot()
        by_line = {e["line"]: e for e in snap["events"]}
        self.assertEqual(len(by_line), 2)
        sh = [e for e in snap["events"] if e["shared"]]
        self.assertEqual(len(sh), 1)
        self.assertEqual(sh[0]["max_threads_per_event"], 3)
        self.assertEqual(sh[0]["ops"], {"record": 3, "synchronize": 3})

    def test_sync_wrapper_replaces_only_worker_syncs(self):
        calls = []

        def device_sync():
            calls.append(threading.current_thread().name)
        inst = _inst("event_sync")
        inst.event_class = CpuEvent
        wrapped = inst.wrap_sync(device_sync, "torch.test.synchronize")
        t = threading.Thread(target=wrapped, name="w")
        t.start()
        t.join()
        wrapped()
        self.assertEqual(calls, ["MainThread"])  # the worker's was replaced
        snap = inst.snapshot()
        self.assertEqual(sum(s["replaced_calls"] for s in snap["sites"]), 1)
        self.assertEqual(sum(s["calls"] for s in snap["sites"]), 2)


if __name__ == "__main__":
    unittest.main()


class MpsShimObjects(unittest.TestCase):
    def test_shim_attributes_are_new_objects_that_still_work(self):
        # torch._dynamo (torch >= 2) maps each torch object to one trace rule and raises
        # "Duplicate torch object" when torch.mps.X is the very object torch.cuda.X / torch.X.
        inst = Instrumentation(torch, "cpu", "as_written", {"mps": "cpu"}, False, [])
        shim = inst.build_mps_shim()
        for name, orig in (("get_rng_state", torch.get_rng_state), ("set_rng_state", torch.set_rng_state),
                           ("manual_seed", torch.manual_seed), ("seed", torch.seed)):
            self.assertIsNot(getattr(shim, name), orig, name)
        self.assertIsNot(shim.Event, CpuEvent)
        self.assertTrue(issubclass(shim.Event, CpuEvent))
        state = shim.get_rng_state()
        a = torch.rand(1)
        shim.set_rng_state(state)
        self.assertTrue(torch.equal(a, torch.rand(1)))
        ev = shim.Event()
        ev.record()
        ev.synchronize()
