"""Stopping Snakemake stops its jobs.

Snakemake answers SIGTERM by waiting for the running jobs to finish, so a
`kill` of Snakemake waits for ever on a system that hangs. The workflow's
`onstart` hook chains a handler that also passes SIGTERM on to every process
Snakemake started; an enhance job then ends its system (enhancement.systems.supervise)
and fails, and Snakemake exits as it does when a job fails.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from pathlib import Path

log = logging.getLogger(__name__)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children first), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, queue = [], [pid]
    while queue:
        for child in parents.get(queue.pop(0), []):
            found.append(child)
            queue.append(child)
    return found


def pass_sigterm_to_jobs() -> None:
    """Chain a SIGTERM handler that signals this process's descendants, then
    lets the previous handler (Snakemake's graceful stop) run."""
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):
        jobs = descendants(os.getpid())
        log.warning("stopping: SIGTERM passed on to %d running job process(es)", len(jobs))
        for pid in jobs:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGTERM)
        if callable(previous):
            previous(signum, frame)

    with contextlib.suppress(ValueError):  # not the main thread: leave it to Snakemake
        signal.signal(signal.SIGTERM, handler)
