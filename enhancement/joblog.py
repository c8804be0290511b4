"""Logging for workflow jobs: one log file per job, errors with tracebacks in it."""

from __future__ import annotations

import contextlib
import logging
import sys
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
    try:
        yield root
    except Exception:
        root.exception("job failed (log: %s)", log_path)
        raise
    finally:
        for handler in (to_file, to_stderr):
            root.removeHandler(handler)
            handler.close()
