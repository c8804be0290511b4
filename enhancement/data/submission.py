"""Checking a submission folder the way the challenge's validator does, and stricter."""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

from enhancement.data.atomic_write import atomic_output
from enhancement.data.audio import audio_info
from enhancement.data.challenge import OUTPUT_RATE, expected_length
from enhancement.data.outputs import forget_validated, record_validated

log = logging.getLogger(__name__)


class SubmissionError(ValueError):
    """One or more submission files are missing or malformed."""


@dataclass(frozen=True)
class Expected:
    path: Path
    frames: int


def problems_of(expected: Expected) -> list[str]:
    """What is wrong with one submission file (empty: nothing)."""
    if not expected.path.is_file():
        return ["missing"]
    try:
        info = sf.info(str(expected.path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        return [f"unreadable: {exc}"]
    problems = []
    if info.format != "WAV":
        problems.append(f"format {info.format}, expected WAV")
    if info.samplerate != OUTPUT_RATE:
        problems.append(f"{info.samplerate} Hz, expected {OUTPUT_RATE}")
    if info.subtype != "PCM_16":
        problems.append(f"subtype {info.subtype}, expected PCM_16")
    if info.channels != 1:
        problems.append(f"{info.channels} channels, expected 1")
    if info.frames != expected.frames:
        problems.append(f"{info.frames} samples, expected {expected.frames}")
    return problems


def unexpected_wavs(folder: Path, expected: Iterable[Path]) -> list[Path]:
    """The .wav files in a submission folder that are not expected targets
    (left by a pid or session since corrected in the manifest, or put there
    by hand): the evaluation would take them for part of the submission.
    Compared by name, never through a symbolic link: a link named like no
    target is an extra file whatever it points to (even a target)."""
    wanted = {(Path(p).parent.resolve(), Path(p).name) for p in expected}
    if not folder.is_dir():
        return []
    here = folder.resolve()
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix.lower() == ".wav" and (p.is_file() or p.is_symlink()) and (here, p.name) not in wanted
    )


def validate_submission(
    files: Iterable[Expected], summary: Path | str, folder: Path | str | None = None, record: Path | str | None = None
) -> None:
    """Check every file, write a CSV summary (file, samples, status), and raise
    listing every bad file if any. ``folder`` (the summary's by default) must
    hold no other .wav files: each one found is listed, and never deleted.
    ``record``: where to record each valid file's size and time, which the
    next plan compares (enhancement.data.outputs)."""
    files = list(files)
    if record is not None:
        forget_validated(record)
    rows, bad = [], []
    for expected in files:
        problems = problems_of(expected)
        rows.append((expected.path.name, expected.frames, "; ".join(problems) or "ok"))
        if problems:
            bad.append(f"  {expected.path}: {'; '.join(problems)}")
    folder = Path(summary).parent if folder is None else Path(folder)
    extra = unexpected_wavs(folder, [e.path for e in files])
    problems = []
    if bad:
        problems.append(f"{len(bad)} of {len(rows)} submission files are invalid:\n" + "\n".join(bad))
    if extra:
        problems.append(
            f"{len(extra)} .wav file(s) in {folder} are not targets of the manifest (left from an "
            "earlier manifest, or added by hand); move them out of the submission folder, they are "
            "not deleted for you:\n" + "\n".join(f"  {p}" for p in extra)
        )
    if problems:
        raise SubmissionError("\n".join(problems))
    # what was validated, for the next plan's check that it is still what stands there
    if record is not None:
        record_validated(record, [e.path for e in files])
    with atomic_output(summary) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "samples", "status"])
        writer.writerows(rows)
    log.info("validated %d submission files; summary in %s", len(rows), summary)


def validate_submission_against_raw(
    submission_files: Iterable[Path | str],
    raw_recordings: Iterable[Path | str],
    summary: Path | str,
    folder: Path | str | None = None,
    record: Path | str | None = None,
) -> None:
    """Validate files whose exact lengths follow from their recordings: the raw
    device audio (at any rate), or a 16 kHz reference where there is no raw
    audio (scoring a folder made elsewhere)."""
    frames = {}
    expected = []
    for path, raw in zip(submission_files, raw_recordings, strict=True):
        if raw not in frames:
            info = audio_info(raw)
            frames[raw] = expected_length(info.frames, info.samplerate)
        expected.append(Expected(Path(path), frames[raw]))
    validate_submission(expected, summary, folder, record)
