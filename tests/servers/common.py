"""Real local servers for the cloud and streaming exporters' tests.

Each service has a module here (moto.py, azurite.py, ...) defining a
``Server`` subclass: how to install it (into the cache outside the checkout,
so a second run and a clean checkout on the same machine start at once) and
how to start it on a free port of 127.0.0.1. The tests of every language use
the same servers: Python through ``start()`` (pytest fixtures in
tests/python/conftest.py), Node and C through the command line
(``python3 tests/servers/cli.py start NAME``, which prints one JSON line and
keeps the server running until its stdin closes).

Installs take a file lock, so parallel test processes install once.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, ClassVar, Iterator

ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where servers are installed: ${XDG_CACHE_HOME:-~/.cache}/vexil."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "vexil"
    path.mkdir(parents=True, exist_ok=True)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any] | None, timeout: float,
                  what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def wait_stopped(pid: int, timeout: float = 5.0) -> None:
    """Waits until every thread of `pid` is stopped (state T in /proc)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            states = [Path(f"/proc/{pid}/task/{t}/stat").read_text().rsplit(")", 1)[1].split()[0]
                      for t in os.listdir(f"/proc/{pid}/task")]
        except (OSError, IndexError):
            return  # gone, or no /proc: nothing more to wait for
        if all(st in ("T", "t") for st in states):
            return
        time.sleep(0.005)


@contextlib.contextmanager
def install_lock(name: str) -> Iterator[None]:
    lock = cache_dir() / f".{name}.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def run(cmd: list[str], **kw: Any) -> None:
    """Runs an install step, showing its output only when it fails."""
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stdout[-4000:]}")


def go_env(**extra: str) -> dict[str, str]:
    """An environment for `go` that never downloads a toolchain and keeps its
    caches outside the checkout."""
    env = dict(os.environ, GOTOOLCHAIN="local", GOFLAGS="-mod=mod", **extra)
    env.setdefault("GOPATH", str(cache_dir() / "go"))
    return env


class Server:
    """One running server. Subclasses set ``name`` and implement
    ``installed()``, ``install()`` and ``command(port, workdir)``; ``info()``
    adds what clients need besides the port (an endpoint URL, keys...)."""

    name: ClassVar[str]
    start_timeout: ClassVar[float] = 30.0

    def __init__(self) -> None:
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None

    # ---- to implement -------------------------------------------------------------
    @classmethod
    def installed(cls) -> bool:
        raise NotImplementedError

    @classmethod
    def install(cls) -> None:
        raise NotImplementedError

    def command(self, port: int, workdir: Path) -> tuple[list[str], dict[str, str]]:
        """The argv and the extra environment that start the server on `port`."""
        raise NotImplementedError

    def ready(self) -> None:
        """Waits until the server serves (default: its port accepts)."""
        wait_for_port(self.port, self.proc, self.start_timeout, self.name)

    def after_start(self) -> None:
        """Set-up once it serves (credentials, buckets...)."""

    def info(self) -> dict[str, Any]:
        return {}

    # ---- life cycle -----------------------------------------------------------------
    @classmethod
    def ensure_installed(cls) -> None:
        if cls.installed():
            return
        # Servers that share an install (azurite and azurite-https) share its lock.
        owner = next(c for c in cls.__mro__ if "install" in c.__dict__)
        with install_lock(owner.name):
            if not cls.installed():
                cls.install()

    def start(self) -> Server:
        self.ensure_installed()
        import tempfile
        self.workdir = Path(tempfile.mkdtemp(prefix=f"vexil-{self.name}-"))
        self.port = free_port()
        argv, env = self.command(self.port, self.workdir)
        log = open(self.workdir / "server.log", "wb")
        self.proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, start_new_session=True)
        try:
            self.ready()
            self.after_start()
        except BaseException:
            self.stop()
            raise
        return self

    def log_text(self) -> str:
        if self.workdir is None:
            return ""
        try:
            return (self.workdir / "server.log").read_text(errors="replace")[-8000:]
        except OSError:
            return ""

    def pause(self) -> None:
        """Stops answering without closing connections (SIGSTOP): a hanging server.
        Returns once every thread of the server is stopped: a signal takes a
        moment to reach a busy process, which meanwhile may still answer."""
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGSTOP)
            wait_stopped(self.proc.pid)

    def resume(self) -> None:
        if self.proc:
            os.killpg(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGCONT)
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        """Stops the server and starts it again on the same port (state lost
        unless the server persists it in its workdir)."""
        self.stop()
        assert self.workdir is not None
        argv, env = self.command(self.port, self.workdir)
        log = open(self.workdir / "server.log", "ab")
        self.proc = subprocess.Popen(argv, env={**os.environ, **env}, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     cwd=self.workdir, start_new_session=True)
        self.ready()

    def close(self) -> None:
        self.stop()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "port": self.port,
                "pid": self.proc.pid if self.proc else None, **self.info()}


def python_venv(name: str, packages: list[str]) -> Path:
    """A venv of its own in the cache, for a server written in Python."""
    venv = cache_dir() / name
    if not (venv / "bin" / "python").exists():
        run([sys.executable, "-m", "venv", str(venv)])
    run([str(venv / "bin" / "pip"), "install", "-q", *packages])
    return venv
