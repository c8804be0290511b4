"""Running a system's work in a child process the enhance job watches.

A plugin runs arbitrary code: it may never return, call ``os._exit``, or be
killed by the kernel for memory. In-process, each of those ends the job with a
message that names neither the system nor the target (or with no end at
all). The job therefore forks: the child does the work and says what it is
doing; the parent watches the clock, the child's peak memory and the way it
ended, and turns each ending into a message naming the system, the target
and what to do. The parent also ends the child when it is itself asked to
stop (SIGTERM from Snakemake or SLURM), and the child dies with the parent.
The child leads a process group of its own: whatever processes the system
starts (a ``multiprocessing`` worker, a ``subprocess.Popen`` it never waits
for) are in it, and the parent ends the whole group when the work ends, so
none outlives the job.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

POLL_S = 0.5
PR_SET_PDEATHSIG = 1


class SupervisedFailure(RuntimeError):
    """The supervised work failed, hung, exited early or was killed."""


@dataclass
class Progress:
    """What the parent knows of the child."""

    stage: str = "starting"
    peak_mb: float = 0.0
    error: BaseException | str | None = None
    done: bool = False
    started: float = field(default_factory=time.monotonic)


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when its parent dies (a kill -9 of the job
    must not leave the system running on)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def _peak_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def group_members(pgid: int) -> list[tuple[int, str]]:
    """The live (not zombie) processes of process group ``pgid``, (pid, command
    name), from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append((int(stat.parent.name), name))
    return sorted(members)


def end_process_group(pgid: int, what: str) -> None:
    """SIGKILL every process left in the work's group (the child's own, made in
    ``_child``), naming them in a warning: a plugin's workers must not outlive
    the job, holding memory or a GPU and writing after it ended."""
    members = group_members(pgid)
    if not members:
        return
    others = [f"{pid} ({name})" for pid, name in members if pid != pgid]
    if others:
        log.warning(
            "%s: %d process(es) the system started were still running when its work ended: %s; "
            "ended them (a system must wait for the processes it starts)",
            what,
            len(others),
            ", ".join(others),
        )
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _child(work: Callable[[Callable[[str], None]], None], conn) -> None:
    os.setsid()  # a process group of its own, ended whole by the parent (end_process_group)
    _die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        work(lambda stage: conn.send(("stage", stage)))
    except BaseException as exc:  # noqa: BLE001 (SystemExit included: it is reported, not obeyed)
        log.error("%s", "".join(traceback.format_exception(exc)).rstrip())
        try:  # the exception itself, so the parent raises the same type
            conn.send(("error", exc))
        except Exception:  # not picklable
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        conn.close()
        logging.shutdown()
        os._exit(1)
    conn.send(("done", None))
    conn.close()
    logging.shutdown()
    os._exit(0)


def run_supervised(
    work: Callable[[Callable[[str], None]], None],
    what: str,
    time_limit_s: float | None = None,
    memory_hint: str = "",
) -> None:
    """Run ``work(report)`` in a forked child; ``report(stage)`` tells the
    parent what the child is doing (named in any failure). Returns when the
    child finished its work; else raises SupervisedFailure saying how it ended."""
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_child, args=(work, send), daemon=False)
    progress = Progress()
    stop_requested: list[int] = []

    def on_term(signum, _frame):
        stop_requested.append(signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        child.start()
        send.close()
        while True:
            while receive.poll(POLL_S if child.is_alive() else 0):
                try:
                    kind, value = receive.recv()
                except EOFError:
                    break
                if kind == "stage":
                    progress.stage = value
                elif kind == "error":
                    progress.error = value
                elif kind == "done":
                    progress.done = True
            peak = _peak_mb(child.pid)
            if peak is not None:
                progress.peak_mb = max(progress.peak_mb, peak)
            if not child.is_alive():
                break
            if stop_requested:
                child.kill()
                child.join()
                raise SupervisedFailure(
                    f"{what}: stopped by {signal.Signals(stop_requested[0]).name} (Snakemake or the "
                    f"cluster ending the job) while {progress.stage}"
                )
            elapsed = time.monotonic() - progress.started
            if time_limit_s is not None and elapsed > time_limit_s:
                child.kill()
                child.join()
                raise SupervisedFailure(
                    f"{what}: no result after {elapsed / 60:.1f} minutes (time_limit "
                    f"{time_limit_s / 60:g} minutes) while {progress.stage}; stopped. Raise time_limit "
                    "in the system's args yaml if it needs longer, or find why it hangs"
                )
        child.join()
    finally:
        signal.signal(signal.SIGTERM, previous)
        receive.close()
        if child.pid is not None:
            end_process_group(child.pid, what)
    code = child.exitcode
    if progress.done and code == 0:
        return
    if isinstance(progress.error, Exception):
        raise progress.error  # the child's traceback is in the log
    if progress.error is not None:
        raise SupervisedFailure(f"{what}: {progress.error}")
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        if -code == signal.SIGKILL:
            raise SupervisedFailure(
                f"{what}: killed by SIGKILL while {progress.stage}, probably for lack of memory "
                f"(the job's peak so far: {progress.peak_mb:.0f} MB). {memory_hint}".rstrip()
            )
        if -code == signal.SIGTERM:
            raise SupervisedFailure(
                f"{what}: stopped by SIGTERM (Snakemake or the cluster ending the job) while {progress.stage}"
            )
        raise SupervisedFailure(f"{what}: killed by {name} while {progress.stage}")
    raise SupervisedFailure(
        f"{what}: the process exited (exit code {code}) while {progress.stage}, before the job's "
        "outputs were written: does the system call sys.exit/os._exit or exit()?"
    )
