"""Files written whole or not at all, readable by the team.

Every output of the workflow (audio, tables, report files, records) is written
to a hidden temporary file beside its final name and renamed into place when
complete: a crash, a full disk or a killed job never leaves a partial file
where a finished one is expected, and the temporary file is removed. The file
gets the permissions of any new file under the umask (0644 under umask 022),
not ``mkstemp``'s private 0600: on a shared cluster, teammates read the results.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import soundfile as sf


class OutputWriteError(OSError):
    """An output folder that cannot be written; names it."""


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success.

    A crash or error leaves no file at ``path`` (the temporary one is removed),
    so a half-written result can never stand in for a finished one. Leftovers
    of a writer killed outright (``kill -9``) are removed on the next attempt.
    """
    path = Path(path)
    prefix = f".{path.name}."
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{glob_escape(prefix)}*.part"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputWriteError(
            f"cannot write {path.name} in {path.parent}: {exc.strerror or exc}; "
            "check that the folder (work_dir) is writable and the disk not full"
        ) from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; outputs are shared files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        # asked while the partial file still holds its space: the disk is as full as it got
        cause = write_failure_cause(exc, path.parent)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if cause is not None:
            raise OutputWriteError(
                f"cannot write {path}: {cause} (in {path.parent}); free some space there or "
                "set work_dir to a folder on a larger disk, then run again"
            ) from exc
        raise


def write_failure_cause(exc: BaseException, folder: Path) -> str | None:
    """Why a write into ``folder`` failed, when the disk is to blame ("No space
    left on device", "Disk quota exceeded"), else None.

    Python's own writes carry the errno; libsndfile only says "System error.",
    so then a small write into the same folder is tried to find out.
    """
    full = (errno.ENOSPC, errno.EDQUOT)
    if isinstance(exc, OutputWriteError):
        return None
    if isinstance(exc, OSError):
        return os.strerror(exc.errno) if exc.errno in full else None
    if not isinstance(exc, (sf.SoundFileError, AssertionError)):  # soundfile asserts on a short write
        return None
    try:
        with tempfile.TemporaryFile(dir=folder) as probe:
            probe.write(bytes(1 << 16))
            probe.flush()
            os.fsync(probe.fileno())
    except OSError as probe_error:
        return os.strerror(probe_error.errno) if probe_error.errno in full else None
    return None


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def glob_escape(text: str) -> str:
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def write_text_atomically(path: Path | str, text: str) -> Path:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` through ``atomic_output``."""
    path = Path(path)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as handle:
        handle.write(text)
    return path
