"""Every README example that claims to run, run as written against the
installs of `make dist` (conftest.py), its shown output checked.

Blocks in C, shell, console, Python, JavaScript and TypeScript run unless
marked; see the README's Development section for the directives and
readme_setups.py for set-ups. Sections added later are picked up as they are.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import readme
from conftest import ROOT, Installs
from readme_setups import Example, node_modules_link, run_setups

README = ROOT / "README.md"
BLOCKS = readme.parse(README)
FILES = {b.directives["file"]: b for b in BLOCKS if "file" in b.directives}
TIMEOUT = 120


def example_dir(installs: Installs, block: readme.Block) -> Path:
    d = installs.root / "readme" / block.id
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    for name, b in FILES.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(b.code)
    return d


def example_env(installs: Installs, d: Path) -> dict[str, str]:
    env = installs.env()
    # HOME is the example's own folder (an example may install into ~/.local);
    # the package managers keep their caches.
    home = Path(os.environ.get("HOME", "/root"))
    env.update(HOME=str(d), npm_config_cache=os.environ.get("npm_config_cache",
                                                             str(home / ".npm")),
               PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR", str(home / ".cache" / "pip")),
               PIP_DISABLE_PIP_VERSION_CHECK="1", npm_config_update_notifier="false",
               npm_config_fund="false", npm_config_audit="false")
    env.pop("CC")
    env.pop("CXX")
    return env


def sh(cmd: list[str], ex: Example, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ex.dir, env=ex.env, capture_output=True, text=True,
                          timeout=TIMEOUT, input=stdin)


def compile_c(block: readme.Block, ex: Example) -> list[str]:
    (ex.dir / "example.c").write_text(block.full_code())
    flags = sh(["pkg-config", "--cflags", "--libs", "vexil"], ex)
    assert flags.returncode == 0, flags.stderr
    # Sanitizers: the example must not leak or misuse memory either.
    r = sh(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter", "-g",
            "-fsanitize=address,undefined", "-o", "example", "example.c",
            *flags.stdout.split()], ex)
    assert r.returncode == 0, f"the C example does not compile:\n{r.stderr}"
    ex.env["ASAN_OPTIONS"] = "detect_leaks=1"
    return ["./example"]


def command_for(block: readme.Block, ex: Example) -> list[str]:
    code = block.full_code()
    lang = block.lang
    if lang == "c":
        return compile_c(block, ex)
    if lang == "sh":
        (ex.dir / "example.sh").write_text(code)
        return ["bash", "-e", "-o", "pipefail", "example.sh"]
    if lang == "python":
        (ex.dir / "example.py").write_text(code)
        return ["python", "example.py"]
    if lang == "js":
        esm = block.info.split()[0] == "mjs" or re.search(r"^(import|export)\s", code, re.M)
        name = "example.mjs" if esm else "example.cjs"
        (ex.dir / name).write_text(code)
        return ["node", name]
    if lang == "ts":
        (ex.dir / "example.ts").write_text(code)
        tsc = ROOT / "node_modules" / "typescript" / "bin" / "tsc"
        assert tsc.exists(), "typescript is a devDependency: run `make node-build`"
        r = sh(["node", str(tsc), "--strict", "--target", "es2022", "--module", "node16",
                "--moduleResolution", "node16", "--outDir", "ts-out", "example.ts"], ex)
        assert r.returncode == 0, f"the TypeScript example does not type-check:\n{r.stdout}{r.stderr}"
        return ["node", "ts-out/example.js"]
    raise AssertionError(f"no runner for {lang}")


STEP = "@@vexil-readme-step@@"


def run_console(block: readme.Block, ex: Example) -> None:
    """`$ command` lines run in order in one shell (an `export` carries on);
    the lines after each are its output, stdout and stderr together."""
    steps: list[tuple[str, list[str]]] = []
    lines = block.full_code().splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("$ "):
            raise AssertionError(f"README.md:{block.line}: a console block starts each command "
                                 f"with `$ `, not {lines[i]!r}")
        cmd = lines[i][2:]
        while cmd.endswith("\\") and i + 1 < len(lines):
            i += 1
            cmd = cmd + "\n" + lines[i]
        out = []
        i += 1
        while i < len(lines) and not lines[i].startswith("$ "):
            out.append(lines[i])
            i += 1
        steps.append((cmd, out))
    script = "exec 2>&1\n" + "".join(f"printf '%s\\n' '{STEP}'\n{cmd}\n" for cmd, _ in steps)
    (ex.dir / "example.sh").write_text(script)
    r = sh(["bash", "example.sh"], ex)
    outputs = r.stdout.split(STEP + "\n")[1:]
    assert len(outputs) == len(steps), f"the console block stopped early:\n{r.stdout}"
    for (cmd, out), got in zip(steps, outputs):
        want = "\n".join(out) + "\n" if out else ""
        assert readme.match_output(want, got), (
            f"README.md:{block.line}: $ {cmd}\n--- README shows\n{want}--- it printed\n{got}")


def check(block: readme.Block, r: subprocess.CompletedProcess) -> None:
    want_exit = int(block.directives.get("exit", "0") or 0)
    assert r.returncode == want_exit, (
        f"README.md:{block.line} ({block.section}) exited {r.returncode}, not {want_exit}\n"
        f"--- stdout\n{r.stdout[-3000:]}\n--- stderr\n{r.stderr[-3000:]}")
    if block.expected is not None:
        assert readme.match_output(block.expected.code, r.stdout), (
            f"README.md:{block.line}: the output shown at line {block.expected.line} differs\n"
            f"--- README shows\n{block.expected.code}--- it printed\n{r.stdout}"
            f"--- stderr\n{r.stderr[-2000:]}")


RUN = [b for b in BLOCKS if b.runnable]


@pytest.mark.parametrize("block", RUN, ids=[b.id for b in RUN])
def test_readme_example(installs: Installs, block: readme.Block):
    d = example_dir(installs, block)
    ex = Example(dir=d, env=example_env(installs, d), installs=installs)
    if block.lang in ("js", "ts"):
        node_modules_link(ex)
    try:
        run_setups(block.directives.get("setup", ""), ex)
        if block.lang == "console":
            run_console(block, ex)
            return
        check(block, sh(command_for(block, ex), ex))
    finally:
        for fn in reversed(ex.cleanups):
            fn()


LINTED = [b for b in BLOCKS if "lint" in b.directives]


@pytest.mark.parametrize("block", LINTED, ids=[b.id for b in LINTED])
def test_readme_flag_file_is_valid(installs: Installs, block: readme.Block, tmp_path):
    f = tmp_path / ("flags.json" if block.lang == "json" else "flags.yaml")
    f.write_text(block.code)
    r = subprocess.run(["vexil", "lint", str(f)], env=installs.env(), capture_output=True,
                       text=True)
    assert r.returncode == 0, f"README.md:{block.line}: vexil lint says\n{r.stdout}{r.stderr}"


def test_readme_python_fragments_compile():
    for block in BLOCKS:
        if "fragment" in block.directives and block.lang == "python":
            compile(block.code, f"README.md:{block.line}", "exec")


def test_readme_marks_are_consistent():
    """Every runnable-language block runs or says why not; set-ups exist."""
    from readme_setups import SETUPS
    for b in BLOCKS:
        for name in filter(None, (n.strip() for n in b.directives.get("setup", "").split(","))):
            assert name in SETUPS, f"README.md:{b.line}: unknown set-up {name!r}"
        if "file" in b.directives:
            assert b.directives["file"], f"README.md:{b.line}: file needs a name"
    assert RUN, "no README example runs"


def test_readme_setups_work(tmp_path, installs: Installs):
    """Each set-up starts and stops cleanly (the README may not use them all)."""
    import json
    import urllib.request
    from readme_setups import SETUPS
    for name, fn in SETUPS.items():
        d = tmp_path / name
        d.mkdir()
        ex = Example(dir=d, env={}, installs=installs)
        try:
            fn(ex)
            if name == "webhook":
                req = urllib.request.Request(ex.env["WEBHOOK_URL"], data=b'{"events": []}')
                assert urllib.request.urlopen(req, timeout=5).status == 200
                assert json.loads((d / "received.jsonl").read_text()) == {"events": []}
        finally:
            for cleanup in reversed(ex.cleanups):
                cleanup()
