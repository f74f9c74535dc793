"""Run fix fixtures before and after fixing, and compare what they did (issue 18).

    python3 compare.py [--timeout S] [--also-import] FIXTURE.py...

For each fixtures/fix/<case>.py, its <case>.fixed.py (what `mps-lint --fix --unsafe-fixes` makes of
it; test/fix.test.ts checks that the CLI produces exactly that file) is run through driver.py the
same way. A case passes when the original runs cleanly (exit 0, no exception in any thread) and
the fixed file prints the same lines and exits the same, within the timeout (a hang fails).
Header comments choose how a case runs: `# fix-runtime: stand-in torch.mps` (driver.py's CPU
stand-in where this torch has no MPS), `# fix-runtime: also without torch` (a second run with
`import torch` blocked). --also-import: each file is also imported as a module (driver.py
--import), and the fixed file must import as the original did. Prints one line per case and run
("ok" or "FAIL: why"); exits 1 on a failure.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def run(script, flags, timeout):
    try:
        p = subprocess.run([sys.executable, os.path.join(HERE, "driver.py"), script, *flags],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                           cwd=os.path.dirname(os.path.abspath(script)))
    except subprocess.TimeoutExpired:
        return None, "TIMEOUT after %ss" % timeout
    return p.returncode, p.stdout.decode("utf-8", "replace")


def main():
    args = sys.argv[1:]
    timeout = 300
    also_import = False
    while args[:1] in (["--timeout"], ["--also-import"]):
        if args[0] == "--timeout":
            timeout = float(args[1])
            args = args[2:]
        else:
            also_import = True
            args = args[1:]
    failed = False
    for original in args:
        original = os.path.abspath(original)  # driver.py runs with the fixture's folder as cwd
        fixed = original[:-3] + ".fixed.py"
        with open(original, encoding="utf-8") as f:
            header = f.read()
        runs = [[]]
        if "# fix-runtime: stand-in torch.mps" in header:
            runs = [["--stand-in-mps"]]
        if "# fix-runtime: also without torch" in header:
            runs.append(["--without-torch"])
        if also_import:
            runs += [flags + ["--import"] for flags in runs]
        for flags in runs:
            name = "%s %s" % (os.path.basename(original), " ".join(flags))
            rc0, out0 = run(original, flags, timeout)
            rc1, out1 = run(fixed, flags, timeout)
            if rc0 != 0 or "EXCEPTION" in out0:
                why = "the original does not run cleanly (exit %s): %s" % (rc0, out0.strip()[-600:])
            elif rc1 != rc0 or out1 != out0:
                why = "the fixed file behaves differently (exit %s, was %s):\n--- original\n%s\n--- fixed\n%s" % (rc1, rc0, out0.strip()[-800:], out1.strip()[-800:])
            else:
                why = None
            failed = failed or why is not None
            print("%s: %s | %s" % (name.strip(), "ok" if why is None else "FAIL: " + why, out0.strip().splitlines()[-1][:200] if out0.strip() else ""), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
