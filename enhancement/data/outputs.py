"""The system's outputs stay as the workflow made them.

A submission file is a hard link of its enhance job's output under
``work/partners/`` (one inode, no second copy of the audio): editing it in
place edits the system's output, and a file put in its place with an older
date (``cp -p``, ``rsync -a``, ``tar x``) is one Snakemake takes for up to date,
as it goes by modification times only. Two guards:

- protection: the enhance job makes its outputs read-only
  (``make_read_only``), so an editor run by their owner refuses or warns
  before any damage (root, or a rename over the file, ignores this);
- detection: the validation job records the size and modification time of
  every file it validated (``record_validated``), after Snakemake's last
  touch of them (Snakemake sets each job's outputs to the time it ended, and
  a hard link's touch is its enhance output's too: an earlier record would
  not hold); each plan compares the submission files with that record,
  ``stat`` alone, and refuses while one differs, naming it
  (``check_submission_unchanged``). Every job that re-makes a submission file
  (the ``submission_file`` rule) first removes its dataset's record, so the
  workflow's own changes are never taken for an edit; validation removes it
  too and records it again only when every file is valid.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from enhancement.data.atomic_write import atomic_output

log = logging.getLogger(__name__)

WRITE_BITS = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


class SubmissionChanged(RuntimeError):
    """Submission files differ from what the workflow made and validated."""


def make_read_only(files: Iterable[Path | str]) -> None:
    """Take away every write permission of each file (hard links share it)."""
    for path in files:
        os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) & ~WRITE_BITS)


def forget_validated(record_path: Path | str) -> None:
    """Remove the record: its files are about to be re-made or re-validated."""
    Path(record_path).unlink(missing_ok=True)


def record_validated(record_path: Path | str, files: Iterable[Path | str]) -> None:
    """Record the size and mtime (ns) of each validated file, by name (kept
    out of the submission folder, which holds what is handed in)."""
    validated = {}
    for path in files:
        info = os.stat(path)
        validated[Path(path).name] = [info.st_size, info.st_mtime_ns]
    with atomic_output(record_path) as tmp:
        Path(tmp).write_text(json.dumps({"validated": validated}, indent=0) + "\n")


def changed_since_validated(record_path: Path | str, files: Iterable[Path | str]) -> list[str]:
    """Each file that differs (size or mtime) from the validation record, described.
    Missing files (Snakemake makes them) and files or folders without a record
    (never validated, or being re-made) are not compared."""
    try:
        with open(record_path) as handle:
            record = json.load(handle)["validated"]
    except FileNotFoundError:
        return []
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring %s, which cannot be read (%s)", record_path, exc)
        return []
    changed = []
    for path in files:
        path = str(path)
        validated = record.get(os.path.basename(path))
        if validated is None:
            continue
        try:
            now = os.stat(path)
        except FileNotFoundError:
            continue
        if [now.st_size, now.st_mtime_ns] != validated:
            changed.append(
                f"  {path} (now {now.st_size} bytes, mtime {now.st_mtime_ns} ns; validated: "
                f"{validated[0]} bytes, mtime {validated[1]} ns)"
            )
    return changed


def check_submission_unchanged(validated: Iterable[tuple[Path | str, Iterable[Path | str]]], system: str) -> None:
    """Refuse (SubmissionChanged, naming every file) while a submission file
    differs from what the workflow made and validated. ``validated``: (the
    validation record, its submission files) per dataset."""
    changed = [line for record, files in validated for line in changed_since_validated(record, files)]
    if changed:
        raise SubmissionChanged(
            f"{len(changed)} submission file(s) of system {system} changed after the workflow made and "
            "validated them (edited in place, or replaced, e.g. by cp -p, rsync -a or tar x):\n"
            + "\n".join(changed)
            + "\nSnakemake goes by modification times and could take them for up to date. A submission file "
            "is a hard link of the system's output under work/partners/: an edit in place changed that too. "
            "Delete each file named (and, if you edited it in place, its enhance output under work/partners/) "
            "and run again: the workflow makes them again. Keep your own versions outside work_dir."
        )
