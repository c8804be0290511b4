"""Logging for workflow jobs: one log file per job, errors with tracebacks in it."""

from __future__ import annotations

import contextlib
import logging
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@contextlib.contextmanager
def job_logging(log_path: Path | str) -> Iterator[logging.Logger]:
    """Send log records to the job's log file and warnings to stderr; an
    exception is logged with its traceback before it propagates, so the log
    Snakemake points at holds the whole story."""
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    to_file = logging.FileHandler(log_path, mode="w")
    to_file.setFormatter(logging.Formatter(FORMAT))
    to_stderr = logging.StreamHandler(sys.stderr)
    to_stderr.setLevel(logging.WARNING)
    to_stderr.setFormatter(logging.Formatter("%(levelname)s: %(message)s"))
    root.addHandler(to_file)
    root.addHandler(to_stderr)
    root.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        yield root
        root.info(
            "job done in %.1f s, peak memory %.0f MB (size mem_mb from this)",
            time.perf_counter() - started,
            peak_rss_mb(),
        )
    except Exception:
        root.exception("job failed (log: %s)", log_path)
        raise
    finally:
        for handler in (to_file, to_stderr):
            root.removeHandler(handler)
            handler.close()


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    VmHWM belongs to this process image; ``ru_maxrss`` would also count the
    parent (Snakemake) that forked it, as Linux keeps it across exec.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
