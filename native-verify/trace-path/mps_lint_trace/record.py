"""Record a traced run where Node (and so `mps-lint`) is not installed, e.g. on a GPU machine:

    PYTHONPATH=<mps-lint>/native-verify/trace-path \\
        python3 -m mps_lint_trace.record [--device cpu|cuda|mps|xpu|auto] [--timeout S] -o run.json -- <command...>

runs the command with the same hooks `mps-lint trace` installs (this folder on PYTHONPATH,
MPS_LINT_TRACE pointing at a loopback listener here) and writes the records of every Python
process it started to run.json, the only file written. The exit status is the command's (124
when --timeout S ran out: the command's process group then gets SIGTERM, and SIGKILL 10 s later,
and what its processes had sent is kept: they send snapshots while they run). Then,
anywhere with the project's source and mps-lint: `mps-lint trace --from run.json [paths..]`.
"""

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        sys.stderr.write(__doc__)
        return 2
    i = argv.index("--")
    opts, command = argv[:i], argv[i + 1:]
    out, device, limit = None, None, None
    k = 0
    while k < len(opts):
        if opts[k] in ("-o", "--output") and k + 1 < len(opts):
            out = opts[k + 1]
            k += 2
        elif opts[k] == "--device" and k + 1 < len(opts):
            device = opts[k + 1]
            k += 2
        elif opts[k] == "--timeout" and k + 1 < len(opts):
            limit = float(opts[k + 1])
            k += 2
        else:
            sys.stderr.write("mps_lint_trace.record: unknown option %s\n" % opts[k])
            return 2
    if not out or not command:
        sys.stderr.write(__doc__)
        return 2
    token = secrets.token_hex(16)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    records, lock = [], threading.Lock()

    def serve(conn):
        data = b""
        try:
            while True:
                b = conn.recv(1 << 16)
                if not b:
                    break
                data += b
        finally:
            conn.close()
        tok, _, body = data.decode("utf-8", "replace").partition("\n")
        if tok != token:
            return
        try:
            rec = json.loads(body)
        except ValueError:
            return
        with lock:
            records.append(rec)

    def accept():
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["MPS_LINT_TRACE"] = "127.0.0.1:%d:%s" % (srv.getsockname()[1], token)
    if device:
        env["MPS_LINT_TRACE_DEVICE"] = device
    else:
        env.pop("MPS_LINT_TRACE_DEVICE", None)
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the command; we report
    t0 = time.time()
    try:
        # with a time limit the command gets its own process group, to be stopped whole
        child = subprocess.Popen(command, env=env, start_new_session=limit is not None)
        try:
            code = child.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            sys.stderr.write("mps_lint_trace.record: %s s passed; stopping the command\n" % limit)
            for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(child.pid, sig)
                except OSError:
                    pass
                try:
                    child.wait(timeout=wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
            code = 124
    except OSError as e:
        sys.stderr.write("mps_lint_trace.record: cannot run %s: %s\n" % (command[0], e))
        code = 127
    finally:
        signal.signal(signal.SIGINT, old)
    time.sleep(0.5)  # records of processes that ended with the command
    srv.close()
    with lock:
        latest = {}  # each process sends cumulative snapshots while it runs; keep its last
        for r in records:
            k = (r.get("pid"), r.get("started"))
            if k not in latest or r.get("seq", 0) > latest[k].get("seq", 0):
                latest[k] = r
        recs = sorted(latest.values(), key=lambda r: r.get("pid", 0))
    tmp = out + ".%d.tmp" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(recs, f)
    os.replace(tmp, out)
    sys.stderr.write("mps_lint_trace.record: %d process record(s) in %s; `%s` exited with %s after %.1f s\n"
                     % (len(recs), out, " ".join(command), code, time.time() - t0))
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main())
