"""Fast kernel start for ``cx run``: one pre-imported process forks a Jupyter kernel per notebook.

Every report notebook starts by importing pandas, matplotlib, SciPy, statsmodels, Ibis and cxlib: about
2.5 s of CPU per kernel, paid once per notebook on a 2-core machine. ``cx run`` instead starts one *kernel
parent* (:func:`start`) while it pre-flights the data; it imports those libraries once, then forks a
kernel for each notebook on request. The forked kernel is an ordinary ipykernel (same connection file,
environment, working directory and standard output/error as a normal launch): only its start-up is
shared. Copy-on-write keeps the imported modules shared between the kernels.

Lifetime: the kernel parent dies with the ``cx run`` process that started it (``PR_SET_PDEATHSIG``),
and each kernel dies with the kernel parent (the same), so nothing outlives a run, even ``kill -9``.
The parent never opens a database connection or a thread before forking (imports only), so a kernel
starts from a clean state.

Where anything is missing (not Linux, a custom kernel command, the parent unreachable), the kernel is
launched the normal way: this is an optimisation, never a requirement. ``CX_KERNEL_PARENT=0`` turns it off.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client import AsyncKernelManager

__all__ = ["start", "stop", "remove_folder", "KernelManager", "ENV"]

#: Environment variable carrying the kernel parent's socket path to the workers ("0" disables it).
ENV = "CX_KERNEL_PARENT"


def _preload() -> None:
    """What the notebooks import, imported once by the kernel parent so every forked kernel shares it.

    Written as plain import statements, not names handed to importlib: the import graph (import-linter,
    grimp) sees them. A group that fails to import is skipped (the kernel imports it again and reports).
    ``cxlib.reports`` (``publish``) is left out: it starts this module, so importing it here would close a
    circle; it is light (the standard library and pandas).
    """
    with contextlib.suppress(Exception):
        import numpy  # noqa: F401
        import pandas  # noqa: F401
        import pyarrow  # noqa: F401
        import pyarrow.pandas_compat  # noqa: F401
    with contextlib.suppress(Exception):
        import scipy.stats  # noqa: F401
        import statsmodels.api  # noqa: F401
    with contextlib.suppress(Exception):
        import matplotlib  # noqa: F401
        import matplotlib.pyplot  # noqa: F401
        import matplotlib_inline.backend_inline  # noqa: F401
        import seaborn  # noqa: F401
        import great_tables  # noqa: F401
    with contextlib.suppress(Exception):
        import duckdb  # noqa: F401
        import ibis  # noqa: F401
        import ibis.backends.duckdb  # noqa: F401
        import ibis.formats.pandas  # noqa: F401
        import ibis.formats.pyarrow  # noqa: F401
        import sqlglot.transforms  # noqa: F401
    with contextlib.suppress(Exception):
        import IPython  # noqa: F401
        import IPython.display  # noqa: F401
        import ipykernel.ipkernel  # noqa: F401
        import ipykernel.kernelapp  # noqa: F401
    with contextlib.suppress(Exception):
        import cxlib  # noqa: F401
        import cxlib.data  # noqa: F401
        import cxlib.sources  # noqa: F401
    with contextlib.suppress(Exception):
        import cxlib.metrics  # noqa: F401
        import cxlib.cohorts  # noqa: F401
        import cxlib.survival  # noqa: F401
        import cxlib.drivers  # noqa: F401
        import cxlib.experiments  # noqa: F401
        import cxlib.journey  # noqa: F401
        import cxlib.support  # noqa: F401
        import cxlib.scorecard  # noqa: F401
        import cxlib.themes  # noqa: F401
        import cxlib.revenue  # noqa: F401
        import cxlib.at_risk  # noqa: F401
        import cxlib.clv  # noqa: F401
        import cxlib.churn  # noqa: F401
        import cxlib.comparisons  # noqa: F401
    with contextlib.suppress(Exception):
        import cxlib.pages  # noqa: F401
        import cxlib.plots  # noqa: F401
        import cxlib.present  # noqa: F401

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """SIGKILL this process when its parent dies (Linux)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# ------------------------------------------------------------------------------------ the run's side

def start() -> subprocess.Popen | None:
    """Start the kernel parent for this process (``cx run``); sets :data:`ENV` for the workers.

    Returns the process (pass it to :func:`stop`), or None where forking kernels is not available.
    """
    if os.environ.get(ENV) == "0" or not sys.platform.startswith("linux"):
        return None
    _remove_orphans()
    path = os.path.join(tempfile.mkdtemp(prefix=f"cx-kernels-{os.getpid()}-"), "socket")
    env = {**os.environ, "MPLBACKEND": os.environ.get("MPLBACKEND", "Agg")}
    env.pop(ENV, None)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "cxlib.kernels", path, str(os.getpid())],
                                stdin=subprocess.DEVNULL, env=env, close_fds=True)
    except OSError:
        return None
    os.environ[ENV] = path
    proc.cx_socket = path  # type: ignore[attr-defined]
    return proc


def _remove_orphans() -> None:
    """Remove the folders of runs that were killed (kill -9 leaves no chance to tidy): cx-kernels-<pid>-*
    whose run process no longer exists."""
    import glob
    import shutil

    for folder in glob.glob(os.path.join(tempfile.gettempdir(), "cx-kernels-*-*")):
        pid = os.path.basename(folder).split("-")[2]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive (another user's process): not ours to touch
            pass


def stop(proc: subprocess.Popen | None) -> None:
    """Stop the kernel parent (its kernels go with it) and remove its socket."""
    if proc is None:
        return
    path = getattr(proc, "cx_socket", None)
    if path and os.environ.get(ENV) == path:
        del os.environ[ENV]
    with contextlib.suppress(OSError):
        proc.kill()
    with contextlib.suppress(Exception):
        proc.wait(timeout=10)
    if path:
        remove_folder(path)


def remove_folder(path: str | None) -> None:
    """Remove the kernel parent's private folder (its socket and the kernels' sockets)."""
    import shutil

    folder = os.path.dirname(path) if path and path != "0" else ""
    if os.path.basename(folder).startswith("cx-kernels-"):
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------ the worker's side

class _Forked:
    """The bits of ``subprocess.Popen`` jupyter_client's local provisioner uses, for a kernel that is the
    kernel parent's child (not ours): liveness from /proc, signals by pid."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                with open(f"/proc/{self.pid}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
                if state in (b"Z", b"X"):  # exited, not yet reaped by the kernel parent
                    self.returncode = 0
            except (OSError, IndexError):
                self.returncode = 0
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def _fork_request(path: str, cmd: list[str], env: dict, cwd: str | None, timeout: float = 120.0) -> int | None:
    """Ask the kernel parent at ``path`` for a kernel running ``cmd``; its pid, or None (launch normally)."""
    # ``python [-X option ...] -m ipykernel_launcher -f FILE ...``, with this Python (-X options only tune
    # the interpreter's start, which the kernel parent has done)
    try:
        at = cmd.index("ipykernel_launcher")
    except ValueError:
        return None
    if at < 2 or cmd[at - 1] != "-m" or not all(a.startswith("-X") for a in cmd[1:at - 1]) or \
            "-f" not in cmd[at + 1:] or os.path.realpath(cmd[0]) != os.path.realpath(sys.executable):
        return None
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)  # the parent may still be importing: the request waits in its backlog
            give_up = time.monotonic() + 20
            while True:  # ... or still starting: its socket appears when it listens
                try:
                    s.connect(path)
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > give_up:
                        raise
                    time.sleep(0.02)
            sys.stdout.flush()
            sys.stderr.flush()
            req = json.dumps({"argv": cmd[at + 1:], "env": env, "cwd": cwd or os.getcwd()}).encode()
            socket.send_fds(s, [req], [1, 2])
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while chunk := s.recv(4096):
                reply += chunk
        pid = int(json.loads(reply)["pid"])
        return pid if pid > 0 else None
    except (OSError, ValueError, KeyError):
        return None


class KernelManager(AsyncKernelManager):
    """nbclient's kernel manager, but the kernel process is forked by the kernel parent when one runs
    (``kernel_manager_class=`` of papermill/nbclient); otherwise exactly the stock launch.

    Kernels talk over Unix sockets (ZeroMQ ``ipc``) named after the kernel, not TCP ports: parallel
    workers each pick "free" TCP ports and can pick the same one before either kernel has bound it
    ("Address already in use"); a socket file per kernel cannot collide, and no other user on the machine
    can connect to it (the folder is private to this user).
    """

    async def _async_pre_start_kernel(self, **kw):
        if sys.platform != "win32" and self.transport == "tcp" and not self.has_kernel:
            # inside the run's kernel-parent folder when there is one: removed with it even if the run is
            # stopped before this manager can clean up
            parent = os.environ.get(ENV)
            base = os.path.dirname(parent) if parent and parent != "0" and os.path.isdir(os.path.dirname(parent)) \
                else None
            folder = tempfile.mkdtemp(prefix="cx-kernel-", dir=base)
            self._cx_ipc_dir = folder
            self.transport = "ipc"
            self.ip = os.path.join(folder, "k")
        return await super()._async_pre_start_kernel(**kw)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        folder = getattr(self, "_cx_ipc_dir", None)
        if folder and not restart:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        path = os.environ.get(ENV)
        prov = self.provisioner
        pid = None
        if path and path != "0" and type(prov).__name__ == "LocalProvisioner":
            env = dict(kw.get("env") or os.environ)
            env["JPY_PARENT_PID"] = str(os.getpid())
            pid = _fork_request(path, list(kernel_cmd), env, kw.get("cwd"))
        if pid is None:
            return await super()._async_launch_kernel(kernel_cmd, **kw)
        prov.process = _Forked(pid)
        prov.pid = pid
        prov.pgid = pid  # the kernel leads its own session, as a normal launch does
        prov.cwd = kw.get("cwd") or os.getcwd()
        self._reconcile_connection_info(prov.connection_info)


# ------------------------------------------------------------------------------------ the kernel parent

def _reap(*_):
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _kernel_child(req: dict, fds: list[int]) -> None:
    """In the forked child: become an ordinary ipykernel; never returns."""
    code = 1
    try:
        os.setsid()
        _die_with_parent()
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        if len(fds) == 2:
            os.dup2(fds[0], 1)
            os.dup2(fds[1], 2)
        for fd in (null, *fds):
            with contextlib.suppress(OSError):
                os.close(fd)
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(req["env"])
        os.chdir(req["cwd"])
        # `python -m` put the kernel parent's working directory first on sys.path; ipykernel_launcher removes
        # its own the same way, so a notebook imports exactly what a normally started kernel would
        if sys.path and _LAUNCH_DIR is not None and sys.path[0] == _LAUNCH_DIR:
            del sys.path[0]
        sys.argv = ["ipykernel_launcher", *req["argv"]]
        from ipykernel import kernelapp

        # the trait's default was read from the kernel parent's environment at import: pass the run's
        # worker as a normal launch does (the kernel's real parent is the kernel parent, so ipykernel only
        # watches for being orphaned; PR_SET_PDEATHSIG above covers the rest)
        parent = int(req["env"].get("JPY_PARENT_PID") or 0)
        app = kernelapp.IPKernelApp.instance()
        app.initialize([*req["argv"], f"--IPKernelApp.parent_handle={parent}"])
        import cxlib

        cxlib._short_data_errors_in_ipython()  # cxlib was imported before this shell existed
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - report and leave; the run's kernel manager sees it die
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


_LAUNCH_DIR: str | None = None  # sys.path[0] as `python -m cxlib.kernels` set it (the working directory)


def serve(path: str, parent_pid: int) -> None:
    """The kernel parent: listen on ``path``, import the notebooks' libraries, fork kernels on request."""
    global _LAUNCH_DIR
    if sys.path and sys.path[0] in ("", os.getcwd()):
        _LAUNCH_DIR = sys.path[0]
    _die_with_parent()
    if os.getppid() != parent_pid:  # the run ended before prctl took effect
        return
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the run, which stops us
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(16)  # bound before importing: early requests wait in the backlog
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _preload()
    signal.signal(signal.SIGCHLD, _reap)
    # Python 3.12+ warns on fork() when the process has threads; ours are BLAS worker threads, which
    # OpenBLAS re-creates in the child (pthread_atfork), so the warning would only reach the cron mail
    warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*fork\(\)")
    while True:
        try:
            conn, _ = srv.accept()
        except InterruptedError:  # pragma: no cover - PEP 475 retries, kept for clarity
            continue
        with conn:
            try:
                msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 2)
                while chunk := conn.recv(1 << 20):
                    msg += chunk
                req = json.loads(msg)
            except (OSError, ValueError):
                continue
            pid = os.fork()
            if pid == 0:
                srv.close()
                conn.close()
                _kernel_child(req, fds)
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            with contextlib.suppress(OSError):
                conn.sendall(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":  # pragma: no cover - started by start()
    serve(sys.argv[1], int(sys.argv[2]))
