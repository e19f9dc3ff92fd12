"""Installs and starts the test servers from any language's tests.

    python3 tests/servers/cli.py install NAME...   # or --all
    python3 tests/servers/cli.py start NAME        # prints one JSON line
                                                   # ({"name", "port", "pid", ...});
                                                   # the server stops when stdin closes
Only the standard library is used here; a server that needs more (moto)
brings its own venv in the cache.
"""

from __future__ import annotations

import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from registry import MODULES, server_class  # noqa: E402


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in ("install", "start"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "install":
        names = sorted(MODULES) if argv[1] == "--all" else argv[1:]
        # In parallel: most installs wait on a registry (pip, npm, Maven, the
        # Go proxy), which a fresh machine's first run would otherwise serialise.
        with ThreadPoolExecutor(max_workers=4) as pool:
            for f in [pool.submit(server_class(n).ensure_installed) for n in names]:
                f.result()
        return 0
    server = server_class(argv[1])().start()
    try:
        print(json.dumps(server.describe()), flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or exits)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
