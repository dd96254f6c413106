"""The kernel parent of ``cx run`` (cxlib.kernels): kernels forked from one pre-imported process behave
like normally launched ones (environment, working directory, output), and nothing outlives the run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import nbformat
import psutil
import pytest
from nbclient import NotebookClient

from cxlib import kernels

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork + PR_SET_PDEATHSIG: Linux")

PROBE = ("import os, sys, json; print(json.dumps({'pid': os.getpid(), 'ppid': os.getppid(), 'cwd': os.getcwd(), "
         "'marker': os.environ.get('CX_TEST_MARKER'), 'preloaded': 'pandas' in sys.modules, "
         "'sid': os.getsid(0)}))")


def _probe(tmp_path, **client_kw) -> dict:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PROBE)]
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}, **client_kw).execute()
    return json.loads(nb.cells[0].outputs[0]["text"])


def _gone(pid: int, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def parent(monkeypatch):
    monkeypatch.delenv(kernels.ENV, raising=False)
    proc = kernels.start()
    assert proc is not None
    yield proc
    kernels.stop(proc)


def test_forked_kernel_is_a_normal_kernel(parent, tmp_path, monkeypatch):
    # set after the kernel parent started: the kernel must get the requesting process's environment
    monkeypatch.setenv("CX_TEST_MARKER", "from-the-worker")
    got = _probe(tmp_path, kernel_manager_class=kernels.KernelManager)
    assert got["ppid"] == parent.pid  # forked by the kernel parent...
    assert got["preloaded"]  # ...which had imported the libraries
    assert got["marker"] == "from-the-worker"
    assert os.path.realpath(got["cwd"]) == os.path.realpath(tmp_path)
    assert got["sid"] == got["pid"]  # its own session, like a normal launch (interrupts go to its group)
    assert _gone(got["pid"])  # shut down at the end of the notebook


def test_without_a_kernel_parent_the_launch_is_the_stock_one(tmp_path, monkeypatch):
    monkeypatch.setenv(kernels.ENV, "0")
    assert kernels.start() is None
    got = _probe(tmp_path, kernel_manager_class=kernels.KernelManager)
    assert got["ppid"] == os.getpid() and not got["preloaded"]


def test_other_kernel_commands_are_not_forked(parent):
    env = dict(os.environ)
    path = os.environ[kernels.ENV]
    assert kernels._fork_request(path, ["/usr/bin/R", "-m", "ipykernel_launcher", "-f", "x.json"], env, None) is None
    assert kernels._fork_request(path, [sys.executable, "-c", "print(1)"], env, None) is None


def test_stop_takes_the_kernels_with_it(parent, tmp_path):
    from jupyter_client import KernelManager as Stock  # noqa: F401 - the stock class is what we extend

    km = kernels.KernelManager(kernel_name="python3")
    import asyncio

    asyncio.run(km.start_kernel(cwd=str(tmp_path)))
    pid = km.provisioner.pid
    assert psutil.Process(pid).ppid() == parent.pid
    kernels.stop(parent)
    assert _gone(pid)
    asyncio.run(km.cleanup_resources())


def test_kill_9_of_the_run_leaves_no_kernel(tmp_path):
    """The owner (standing in for `cx run`) is killed with SIGKILL: the kernel parent and the kernel die."""
    script = textwrap.dedent(f"""
        import asyncio, json, os, sys, time
        os.environ.pop({kernels.ENV!r}, None)
        from cxlib import kernels
        proc = kernels.start()
        km = kernels.KernelManager(kernel_name="python3")
        asyncio.run(km.start_kernel(cwd={str(tmp_path)!r}))
        print(json.dumps({{"parent": proc.pid, "kernel": km.provisioner.pid, "socket": proc.cx_socket}}), flush=True)
        time.sleep(120)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = json.loads(owner.stdout.readline())
        assert psutil.Process(pids["kernel"]).ppid() == pids["parent"]
        owner.send_signal(signal.SIGKILL)
        owner.wait(timeout=10)
        assert _gone(pids["parent"]) and _gone(pids["kernel"])
    finally:
        owner.kill()
        import shutil

        if "pids" in locals():  # a killed run cannot tidy its socket folder
            shutil.rmtree(os.path.dirname(pids["socket"]), ignore_errors=True)


def test_data_errors_stay_short_in_a_forked_kernel(parent, tmp_path):
    """cxlib was imported by the kernel parent before any shell existed: the forked kernel still shows a
    CXDataError as its message, not a stack of frames (as a normally started kernel does)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("from cxlib.data import CXDataError\nraise CXDataError('events.csv: bad')")]
    client = NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}},
                            kernel_manager_class=kernels.KernelManager, allow_errors=True)
    client.execute()
    err = nb.cells[0].outputs[0]
    assert err["ename"] == "CXDataError"
    assert err["traceback"] == ["Data problem — CXDataError: events.csv: bad"]


def test_forked_kernel_has_the_stock_import_path(tmp_path, monkeypatch):
    """sys.path of a forked kernel equals a normally started one's (the kernel parent's `python -m`
    directory is not left in front), so a notebook imports the same modules either way."""
    monkeypatch.chdir(tmp_path)  # the run's working directory: what `python -m` puts first
    monkeypatch.delenv(kernels.ENV, raising=False)
    proc = kernels.start()
    try:
        def path_of(**kw):
            nb = nbformat.v4.new_notebook()
            nb.cells = [nbformat.v4.new_code_cell("import sys, json; print(json.dumps(sys.path))")]
            NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}, **kw).execute()
            return json.loads(nb.cells[0].outputs[0]["text"])

        forked = path_of(kernel_manager_class=kernels.KernelManager)
        monkeypatch.setenv(kernels.ENV, "0")
        stock = path_of(kernel_manager_class=kernels.KernelManager)
    finally:
        kernels.stop(proc)
    assert forked == stock


def test_kernels_talk_over_private_unix_sockets(parent, tmp_path):
    """No TCP ports (parallel workers could pick the same free port): ZeroMQ ipc sockets in the run's
    private folder, gone with it."""
    import asyncio

    km = kernels.KernelManager(kernel_name="python3")
    asyncio.run(km.start_kernel(cwd=str(tmp_path)))
    folder = os.path.dirname(parent.cx_socket)
    try:
        assert km.transport == "ipc" and km.ip.startswith(folder + os.sep)
        assert oct(os.stat(folder).st_mode & 0o777) == "0o700"
        end = time.monotonic() + 20  # the kernel binds its sockets once it has started
        while not os.path.exists(f"{km.ip}-{km.shell_port}") and time.monotonic() < end:
            time.sleep(0.05)
        assert os.path.exists(f"{km.ip}-{km.shell_port}")
    finally:
        kernels.stop(parent)
        asyncio.run(km.cleanup_resources())
    assert not os.path.exists(folder)


def test_a_killed_runs_folder_is_removed_by_the_next_run(tmp_path, monkeypatch):
    import tempfile

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    orphan = tempfile.mkdtemp(prefix=f"cx-kernels-{dead.pid}-")
    mine = tempfile.mkdtemp(prefix=f"cx-kernels-{os.getpid()}-")
    monkeypatch.delenv(kernels.ENV, raising=False)
    proc = kernels.start()
    try:
        assert not os.path.exists(orphan)
        assert os.path.exists(mine)  # a live run's folder stays
    finally:
        kernels.stop(proc)
        os.rmdir(mine)
