"""Snakemake's command line run in a forked child of a process that imported it once.

The workflow tests start Snakemake some hundreds of times. Each start imports
its command line, its plugins (pandas, through the SLURM executor plugin) and
its persistence (SQLAlchemy): about 1.2 CPU s, two thirds of a dry run. The
server pays that once per pytest worker. Each call forks it; the child takes
the call's folder, environment and arguments and runs ``snakemake.cli.main``,
its output to files: the code a ``snakemake`` command runs, in a process that
differs only in having imported it earlier. Nothing of this project is imported
before the fork, so every call reads the workflow (and a test's edited copy of
it) afresh.

``ECHI_TEST_FORK=0`` runs every call as a plain ``python -m snakemake``.

Protocol (one call at a time): a JSON line with ``args``, ``cwd``, ``env``,
``stdout``, ``stderr`` (file paths) in; ``{"pid": N}`` when the child started,
then ``{"returncode": N}`` when it ended.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path


def _child(call: dict) -> None:
    """Become ``python -m snakemake ARGS`` started in ``cwd`` with ``env``; never returns."""
    code = 1
    try:
        os.setpgid(0, 0)  # the caller can stop it and its jobs together
        os.chdir(call["cwd"])
        os.environ.clear()
        os.environ.update(call["env"])
        sys.path[0] = os.getcwd()  # as `python -m` puts it
        tempfile.tempdir = None  # found again from the call's TMPDIR
        from snakemake.workflow import Workflow

        Workflow._rundir = os.getcwd()  # the one value Snakemake takes at import: the launch folder
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        for fd, path in ((1, call["stdout"]), (2, call["stderr"])):
            out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(out, fd)
            os.close(out)
        sys.argv = ["snakemake", *call["args"]]
        from snakemake.cli import main

        main(call["args"])
        code = 0
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            code = exc.code or 0
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit
            import logging

            atexit._run_exitfuncs()
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve() -> None:
    """Import Snakemake and its plugins, then fork a child per request line."""
    import snakemake.cli  # noqa: F401
    from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

    ExecutorPluginRegistry()  # imports every installed executor plugin (pandas, for SLURM's)
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        call = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _child(call)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")


class SnakemakeServer:
    """The client: one server per process, started at the first call."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen | None = None
        self._pending = b""
        self._lock = threading.Lock()

    def _server(self) -> subprocess.Popen:
        if self._proc is None or self._proc.poll() is not None:
            self._proc = subprocess.Popen(
                [sys.executable, __file__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                bufsize=0,
                cwd=tempfile.gettempdir(),
            )
            self._pending = b""
        return self._proc

    def _reply(self, deadline: float | None) -> dict | None:
        """The server's next line; None if it ended, or if ``deadline`` passed."""
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._pending:
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([fd], [], [], wait)[0]:
                return None
            chunk = os.read(fd, 4096)
            if not chunk:
                return None
            self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return json.loads(line)

    def run(
        self, args: list[str], cwd: Path, env: dict[str, str], timeout: float | None = None
    ) -> subprocess.CompletedProcess:
        with self._lock, tempfile.TemporaryDirectory(prefix="snakemake-call-") as folder:
            out, err = Path(folder) / "stdout", Path(folder) / "stderr"
            server = self._server()
            call = {"args": list(args), "cwd": str(cwd), "env": env, "stdout": str(out), "stderr": str(err)}
            server.stdin.write((json.dumps(call) + "\n").encode())
            started = self._reply(None)
            deadline = None if timeout is None else time.monotonic() + timeout
            ended = self._reply(deadline) if started else None
            if started and not ended and server.poll() is None:  # past its time: stop it and its jobs
                os.killpg(started["pid"], signal.SIGKILL)
                self._reply(None)
                raise subprocess.TimeoutExpired(
                    ["snakemake", *args], timeout, out.read_text(errors="replace"), err.read_text(errors="replace")
                )
            if not ended:
                self._proc = None
                raise RuntimeError(f"the Snakemake server stopped (exit {server.wait()}) running snakemake {args}")
            return subprocess.CompletedProcess(
                ["snakemake", *args],
                ended["returncode"],
                out.read_text(errors="replace"),
                err.read_text(errors="replace"),
            )


def snakemake_command(
    args: list[str], cwd: Path, env: dict[str, str], timeout: float | None = None
) -> subprocess.CompletedProcess:
    """``python -m snakemake ARGS`` in ``cwd`` with ``env`` (through the server unless
    ECHI_TEST_FORK=0); subprocess.TimeoutExpired after ``timeout`` seconds."""
    if os.environ.get("ECHI_TEST_FORK", "1") == "0":
        return subprocess.run(
            [sys.executable, "-m", "snakemake", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=cwd,
            timeout=timeout,
        )
    return SERVER.run(args, cwd, env, timeout)


SERVER = SnakemakeServer()

if __name__ == "__main__":
    serve()
