#!/usr/bin/env python3
"""Turns the Node addon node-gyp built into a prebuilt binary that runs on a
machine without vexil's C libraries:

    prebuilds/linux-x64/vexil.napi.glibc.node   (node-gyp-build's layout)
    prebuilds/vexil.libs/libcurl-<hash>.so.4 ... (every library it links that
                                                  the manylinux policy does not
                                                  promise, found by auditwheel)

auditwheel already knows how to find what an ELF file links (DT_NEEDED, walked
the way the loader does), which libraries a manylinux system provides, and how
to copy the others with a unique name and an $ORIGIN-relative RUNPATH. It works
on wheels, so the addon goes through it inside a throwaway wheel whose layout
is the prebuilds folder's; the same policy as the Python wheel's applies.

Usage: prebuild.py ADDON.node OUTDIR   (auditwheel and patchelf on PATH)
Prints the manylinux tag the binary meets.
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

DIST = "vexil"  # auditwheel names the library folder after the wheel: vexil.libs


def node_tuple() -> str:
    """node-gyp-build's <platform>-<arch> folder name."""
    arch = {"x86_64": "x64", "aarch64": "arm64", "armv7l": "arm", "i686": "ia32"}.get(
        platform.machine(), platform.machine())
    return f"{sys.platform}-{arch}"


def record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def throwaway_wheel(addon: Path, inner: str, where: Path) -> Path:
    """A minimal wheel holding the addon at `inner` (a path in the wheel)."""
    plat = f"linux_{platform.machine()}"
    info = f"{DIST}-0.dist-info"
    files = {
        inner: addon.read_bytes(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0\n".encode(),
        f"{info}/WHEEL": (f"Wheel-Version: 1.0\nGenerator: vexil prebuild\n"
                          f"Root-Is-Purelib: false\nTag: py3-none-{plat}\n").encode(),
    }
    record = [record_line(n, d) for n, d in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = where / f"{DIST}-0-py3-none-{plat}.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
            z.getinfo(name).external_attr = 0o755 << 16
    return wheel


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    addon, out = Path(sys.argv[1]), Path(sys.argv[2])
    if not addon.is_file():
        print(f"prebuild: {addon} does not exist (run `make node-build`)", file=sys.stderr)
        return 1
    tup = node_tuple()
    inner = f"{tup}/vexil.napi.glibc.node"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wheel = throwaway_wheel(addon, inner, tmp)
        r = subprocess.run(["auditwheel", "repair", "--strip", "-w", str(tmp / "out"), str(wheel)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stdout + r.stderr, file=sys.stderr)
            return 1
        (repaired,) = (tmp / "out").glob("*.whl")
        tag = re.search(r"(manylinux_\d+_\d+_\w+)", repaired.name)
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        with zipfile.ZipFile(repaired) as z:
            for name in z.namelist():
                if name.startswith((f"{tup}/", f"{DIST}.libs/")) and not name.endswith("/"):
                    dest = out / name
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    dest.write_bytes(z.read(name))
                    os.chmod(dest, 0o755)
    print(f"prebuild: {out / inner} ({tag.group(1) if tag else repaired.name}), "
          f"{len(list((out / f'{DIST}.libs').glob('*')))} bundled libraries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
