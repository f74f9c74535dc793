"""The numbers --verify and bench report: spreads, 'no measurable difference', regimes, and
the process-tree walk. Pure functions and real processes; no torch needed."""
import os
import subprocess
import sys
import time
import unittest

from mps_lint_verify import bench, runner


class Comparison(unittest.TestCase):
    def phase(self, walls):
        return {"status": "ok", "median_s": runner._median(walls), "repeats": len(walls),
                "p25_s": runner._quantile(walls, 0.25), "p75_s": runner._quantile(walls, 0.75)}

    def test_overlapping_quartiles_are_no_measurable_difference(self):
        c = runner.comparison(self.phase([1.0, 1.1, 1.2, 1.3]), self.phase([1.05, 1.15, 1.25, 1.35]))
        self.assertFalse(c["measurable"])
        self.assertLess(c["low"], 1.0)
        self.assertGreater(c["high"], 1.0)
        self.assertEqual(c["repeats"], [4, 4])

    def test_separated_quartiles_are_measurable(self):
        c = runner.comparison(self.phase([2.0, 2.1, 2.2]), self.phase([1.0, 1.05, 1.1]))
        self.assertTrue(c["measurable"])
        self.assertAlmostEqual(c["ratio"], 2.1 / 1.05, places=3)
        self.assertGreater(c["low"], 1.0)

    def test_threaded_section_decides_when_both_modes_started_threads(self):
        # Same 1.0 s of set-up in both runs dilutes a 2x difference in the threaded part to 1.5x.
        def with_threads(walls, sect):
            p = self.phase(walls)
            p.update({"threads_median_s": runner._median(sect), "threads_p25_s": runner._quantile(sect, 0.25),
                      "threads_p75_s": runner._quantile(sect, 0.75)})
            return p
        c = runner.comparison(with_threads([3.0, 3.0, 3.0], [2.0, 2.0, 2.0]), with_threads([2.0, 2.0, 2.0], [1.0, 1.0, 1.0]))
        self.assertEqual(c["basis"], "threaded section")
        self.assertAlmostEqual(c["ratio"], 2.0)
        self.assertAlmostEqual(c["whole_run"]["ratio"], 1.5)
        self.assertEqual(runner.comparison(self.phase([3.0]), self.phase([2.0]))["basis"], "whole run")

    def test_no_comparison_without_the_replacement_run(self):
        self.assertIsNone(runner.comparison(self.phase([1.0]), {"status": "skipped"}))

    def test_regime_from_gpu_busy_share(self):
        env = {"environment": {"device": "cuda"}}
        self.assertEqual(runner.regime({"busy_s": 0.8}, 1.0, {}, env)["kind"], "device-bound")
        r = runner.regime({"busy_s": 0.2}, 1.0, {}, env)
        self.assertEqual((r["kind"], r["busy_fraction"]), ("host-bound", 0.2))
        self.assertEqual(runner.regime({"error": "no profiler"}, 1.0, {}, env)["kind"], "unknown")
        self.assertEqual(runner.regime(None, 1.0, {}, {"environment": {"device": "cpu"}})["kind"], "host-bound")


class BenchCells(unittest.TestCase):
    def test_cell_keeps_every_repeat_and_its_regime(self):
        c = bench.make_cell("matmul", "event", 2, [(100, 1.0), (300, 1.0), (200, 1.0)], 0.004, "cuda")
        self.assertEqual((c["ops_per_s_min"], c["ops_per_s"], c["ops_per_s_max"]), (100, 200, 300))
        self.assertEqual(len(c["repeats"]), 3)
        self.assertAlmostEqual(c["busy_fraction"], 0.8)
        self.assertEqual(c["regime"], "device-bound")
        self.assertEqual(bench.make_cell("matmul", "event", 2, [(100, 1.0)], 0.001, "cuda")["regime"], "host-bound")
        self.assertEqual(bench.make_cell("matmul", "event", 2, [(100, 1.0)], None, "mps")["regime"], "unknown")

    def test_ratio_within_spread_is_not_measurable(self):
        d = {"ops_per_s": 100.0, "ops_per_s_min": 90.0, "ops_per_s_max": 110.0}
        e = {"ops_per_s": 105.0, "ops_per_s_min": 95.0, "ops_per_s_max": 115.0}
        q = bench.ratio(e, d)
        self.assertFalse(q["measurable"])
        self.assertIn("no measurable difference", bench.ratio_text(q))
        e2 = {"ops_per_s": 200.0, "ops_per_s_min": 190.0, "ops_per_s_max": 210.0}
        self.assertTrue(bench.ratio(e2, d)["measurable"])


class Tree(unittest.TestCase):
    @unittest.skipUnless(os.path.isdir("/proc/self"), "Linux /proc")
    def test_finds_and_kills_a_grandchild_in_its_own_session(self):
        code = ("import subprocess, sys, time; "
                "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], start_new_session=True); "
                "print(c.pid, flush=True); time.sleep(60)")
        p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True, text=True)
        child = int(p.stdout.readline())
        tree = runner.ProcessTree(p.pid)
        members, _ = tree.poll()
        self.assertIn(child, members)
        self.assertGreater(tree.rss_bytes, 0)
        killed = tree.kill_all("timeout")
        p.wait()
        self.assertEqual(sorted(k["pid"] for k in killed), sorted([p.pid, child]))
        self.assertTrue(next(k for k in killed if k["pid"] == child)["own_session"])
        time.sleep(0.2)
        with open("/proc/%d/stat" % child) if os.path.exists("/proc/%d/stat" % child) else open(os.devnull) as f:
            self.assertNotRegex(f.read(), r"^\d+ \(.*\) [RSD]")


if __name__ == "__main__":
    unittest.main()
