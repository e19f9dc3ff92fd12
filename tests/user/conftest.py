"""vexil as a user gets it: the artifacts of `make dist` installed outside the
checkout (a prefix for C, a venv for Python, an app folder for Node), with
nothing of the build's environment. Shared by test_artifacts.py (the install
itself) and test_readme.py (the README's examples, run against these installs).

The installs happen once per session, in a temporary folder outside the
checkout, from $VEXIL_DIST (`make test-user` sets it to dist/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = re.search(r'#define VEXIL_VERSION "([^"]+)"',
                    (ROOT / "csrc/include/vexil.h").read_text()).group(1)
SDK_VERSION = json.loads((ROOT / "package.json").read_text())["devDependencies"][
    "@openfeature/server-sdk"]

# Tools an install may use. A compiler is not one of them: PATH holds links to
# these only, so an install that tried to build something would fail.
INSTALL_TOOLS = ["sh", "bash", "env", "node", "npm", "npx", "tar", "gzip", "cat", "ls", "rm",
                 "mkdir", "cp", "mv", "ln", "chmod", "uname", "dirname", "basename", "sed",
                 "grep", "head", "tail", "sort", "readlink", "realpath", "git", "ldconfig"]
COMPILERS = ["cc", "gcc", "g++", "c++", "clang", "make", "ld"]


def run(cmd, *, cwd=None, env=None, check=True, timeout=300, input=None):
    """Runs cmd; on failure the assertion shows its output."""
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                       input=input)
    if check and r.returncode != 0:
        pytest.fail(f"{cmd!r} exited {r.returncode}\n--- stdout\n{r.stdout[-4000:]}\n"
                    f"--- stderr\n{r.stderr[-4000:]}")
    return r


def toolbox(where: Path) -> Path:
    """A bin folder of links to INSTALL_TOOLS: a PATH without a compiler."""
    where.mkdir(parents=True, exist_ok=True)
    for tool in INSTALL_TOOLS:
        found = shutil.which(tool)
        if found and not (where / tool).exists():
            (where / tool).symlink_to(found)
    for c in COMPILERS:
        assert not (where / c).exists()
    return where


def user_env(home: Path, path: list[Path], **extra: str) -> dict[str, str]:
    """A clean environment: no LD_LIBRARY_PATH, PKG_CONFIG_PATH, CPATH, CC...,
    only PATH, HOME (the package managers' caches stay warm) and extra."""
    env = {"PATH": os.pathsep.join(str(p) for p in path), "HOME": str(home), "LANG": "C.UTF-8",
           "CC": "/nonexistent/cc", "CXX": "/nonexistent/c++"}
    for keep in ("npm_config_cache", "PIP_CACHE_DIR", "XDG_CACHE_HOME", "npm_config_registry",
                 "PIP_INDEX_URL", "npm_config_userconfig"):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env.update(extra)
    return env


# ---- what the build links, and what a manylinux system provides --------------------------

def ldd(path: Path, env=None) -> dict[str, str | None]:
    """soname -> resolved path (None: not found), as the loader resolves them."""
    out = run(["ldd", str(path)], env=env).stdout
    libs: dict[str, str | None] = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+) => (\S+|not found)", line)
        if m:
            libs[m.group(1)] = None if m.group(2) == "not found" else m.group(2)
    return libs


def manylinux_allowed(tag: str) -> set[str]:
    """The sonames the manylinux policy `tag` says every system has (auditwheel's list)."""
    import auditwheel
    policies = json.loads((Path(auditwheel.__file__).parent / "policy" /
                           "manylinux-policy.json").read_text())
    name = re.match(r"(manylinux_\d+_\d+)", tag).group(1)
    for p in policies:
        if p["name"] == name or name in p.get("aliases", []):
            return set(p["lib_whitelist"])
    raise AssertionError(f"auditwheel has no policy {name}")


def build_libraries() -> list[Path]:
    """The files of the libraries the build links that a manylinux system does
    not promise (libcurl, libcjson, OpenSSL...; any the build adds later),
    read from the checkout's own libvexil.so."""
    so = ROOT / "out" / "libvexil.so"
    if not so.exists():
        run(["make", "-C", str(ROOT), "lib"])
    allowed = manylinux_allowed("manylinux_2_17")  # the smallest list: hide the most
    return sorted({Path(os.path.realpath(p)) for name, p in ldd(so).items()
                   if p and name not in allowed and "libvexil" not in name})


def hidden_run(cmd, *, env, cwd, hide: list[Path], timeout=120, more: list[str] = ()):
    """Runs cmd in a private mount namespace where the build's libraries are
    empty files and /usr/include and /usr/local/include are empty: what a
    machine without the -dev packages (or the libraries at all) looks like
    to the program. Other processes see nothing of it."""
    mounts = ["mount -t tmpfs none /usr/include", "mount -t tmpfs none /usr/local/include"]
    mounts += [f"mount --bind /dev/null '{p}'" for p in hide]
    mounts += list(more)
    script = " && ".join(mounts) + ' && exec "$@"'
    # As root a mount namespace is enough; otherwise a user namespace grants
    # the mounts (inside it only).
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return run(["unshare", *userns, "--mount", "--propagation", "private", "sh", "-c", script,
                "sh", *cmd], env=env, cwd=cwd, timeout=timeout, check=False)


# ---- the installs ------------------------------------------------------------------------

@dataclass
class Installs:
    root: Path       # outside the checkout
    home: Path
    tools: Path      # PATH for install steps: no compiler
    dist: Path
    prefix: Path     # C: make install PREFIX=prefix
    venv: Path       # Python: the wheel installed
    app: Path        # Node: npm install vexil-<v>.tgz
    wheel: Path
    wheel_tag: str
    logs: dict[str, str]

    def artifact(self, pattern: str) -> Path:
        found = sorted(self.dist.glob(pattern))
        assert len(found) == 1, f"expected one {pattern} in {self.dist}, found {found}"
        return found[0]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a user's program: the installs on PATH, nothing else."""
        extra.setdefault("PKG_CONFIG_PATH", str(self.prefix / "lib" / "pkgconfig"))
        return user_env(self.home, [self.prefix / "bin", self.venv / "bin", Path("/usr/bin"),
                                    Path("/bin")], **extra)


def python_base() -> str:
    """The interpreter the wheel was built for (the project venv's base)."""
    for name in (f"python{sys.version_info.major}.{sys.version_info.minor}", "python3"):
        cand = Path(sys.base_prefix) / "bin" / name
        if cand.exists():
            return str(cand)
    return sys.executable


def install_c(i: Installs) -> None:
    src = i.root / "src"
    with tarfile.open(i.artifact(f"libvexil-{VERSION}.tar.gz")) as t:
        t.extractall(src, filter="data")
    tree = src / f"libvexil-{VERSION}"
    env = user_env(i.home, [Path("/usr/bin"), Path("/bin")])
    env.pop("CC")
    env.pop("CXX")
    r = run(["make", "-j2", "install", f"PREFIX={i.prefix}", f"BUILD={i.root / 'cbuild'}"],
            cwd=tree, env=env)
    i.logs["c"] = r.stdout + r.stderr


def install_python(i: Installs) -> None:
    run([python_base(), "-m", "venv", str(i.venv)])
    env = user_env(i.home, [i.venv / "bin", i.tools])
    # The wheel and the provider's SDK, binaries only: nothing may compile.
    r = run([str(i.venv / "bin" / "pip"), "install", "-q", "--only-binary=:all:",
             "--disable-pip-version-check", f"{i.wheel}[openfeature]"], cwd=i.root, env=env)
    i.logs["python"] = r.stdout + r.stderr


def npm_install(app: Path, i: Installs, *specs: str) -> str:
    app.mkdir(parents=True, exist_ok=True)
    (app / "package.json").write_text(json.dumps({"name": app.name, "private": True}))
    env = user_env(i.home, [i.tools])
    r = run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", *specs], cwd=app,
            env=env)
    return r.stdout + r.stderr


def install_node(i: Installs) -> None:
    # @types/node: what a TypeScript app has (the README's TypeScript examples).
    i.logs["node"] = npm_install(i.app, i, str(i.artifact(f"vexil-{VERSION}.tgz")),
                                 f"@openfeature/server-sdk@{SDK_VERSION}", "@types/node@20")


@pytest.fixture(scope="session")
def installs(tmp_path_factory) -> Installs:
    dist = Path(os.environ.get("VEXIL_DIST", ROOT / "dist"))
    if not dist.is_dir():
        pytest.fail(f"{dist} does not exist: run `make dist` (or `make test-user`)")
    root = Path(tempfile.mkdtemp(prefix="vexil-user-"))
    assert ROOT not in root.parents
    home = Path(os.environ.get("HOME", root))
    wheels = sorted(dist.glob(f"vexil-{VERSION}-*-manylinux_*.whl"))
    assert len(wheels) == 1, f"expected one manylinux wheel in {dist}: {wheels}"
    tag = re.search(r"-(manylinux_[^.]+)\.whl$", wheels[0].name).group(1)
    i = Installs(root=root, home=home, tools=toolbox(root / "tools"), dist=dist,
                 prefix=root / "prefix", venv=root / "venv", app=root / "app", wheel=wheels[0],
                 wheel_tag=tag, logs={})
    install_c(i)
    install_python(i)
    install_node(i)
    yield i
    shutil.rmtree(root, ignore_errors=True)
