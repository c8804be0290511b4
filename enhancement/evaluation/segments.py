"""ECHI segment lists, cutting, and the reasons a segment is not scored.

Mirrors the official recipe: the targets are the manifest's
(``enhancement.data.manifest``); segments are headerless ``index,start,end`` rows
at 16 kHz; a cut segment goes through a PCM_16 round trip (the recipe writes
it with soundfile and reads it back). A segment is not scored when it runs
past the end, starts before ``earliest_start`` samples, is shorter than the
metric set allows, or its reference is constant.
A list's rows are checked as they are read: a negative or reversed one is an
error naming the file and row, a repeated one is scored once (with a warning).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data.challenge import OUTPUT_RATE
from .inputs import segment_rows

log = logging.getLogger(__name__)

# Skip reason codes (the same codes as the fixture's dropped_segments.csv).
PAST_END = "past_end"
BEFORE_START = "before_30s"  # the official rule's; before_start_reason() names another start
TOO_SHORT = "too_short"
CONSTANT_REF = "constant_ref"
METRIC_FAILED = "metric_failed"
REASONS = (PAST_END, BEFORE_START, TOO_SHORT, CONSTANT_REF, METRIC_FAILED)


def seconds_text(seconds: float) -> str:
    """A configured number of seconds as written: 30, 0.5, 1000000 (not 1e+06)."""
    return np.format_float_positional(float(seconds), trim="-")


def before_start_reason(earliest_start_s: float) -> str:
    """The reason code of a segment starting too early: ``before_30s`` under the
    official 30-s rule, ``before_10s`` with ``evaluation_earliest_start_s: 10``."""
    return f"before_{seconds_text(earliest_start_s)}s"


def reasons(earliest_start_s: float = 30.0) -> tuple[str, ...]:
    """Every skip reason code, in report order, for a configured earliest start."""
    return tuple(before_start_reason(earliest_start_s) if r == BEFORE_START else r for r in REASONS)


@dataclass(frozen=True)
class Segment:
    """One row of a segment list, in samples."""

    index: int
    start: int
    end: int

    def key(self, stem: str) -> str:
        """Upstream's segment file name, the row key of every report."""
        return f"{stem}.{self.index:03g}.{self.start}_{self.end}.wav"


def read_segments(path: Path) -> list[Segment]:
    """A headerless ``index,start,end`` list; an error naming the file and row
    for a malformed, negative or reversed row (upstream would skip it under a
    wrong reason). A repeated row is kept once, with a warning: upstream cuts
    one file per segment key, so the official numbers count it once."""
    segs: dict[Segment, int] = {}
    repeats: list[tuple[int, int]] = []
    for n, row in segment_rows(path):
        try:
            index, start, end = (int(v) for v in row[:3])
        except ValueError as err:
            raise ValueError(f"{path}:{n}: expected integer index,start,end, got {row}") from err
        problem = (
            f"start {start} is negative"
            if start < 0
            else f"end {end} is not after start {start}"
            if end <= start
            else None
        )
        if problem:
            raise ValueError(f"{path}:{n}: {problem} (row {row}); fix the segment list")
        seg = Segment(index, start, end)
        if seg in segs:
            repeats.append((n, segs[seg]))
        else:
            segs[seg] = n
    if repeats:
        log.warning(
            "%s: rows %s repeat rows %s; each segment is scored once",
            path,
            ", ".join(str(n) for n, _ in repeats),
            ", ".join(str(first) for _, first in repeats),
        )
    return list(segs)


def cut(signal: np.ndarray, seg: Segment) -> np.ndarray:
    """A segment of a signal (an array, or ``StoredAudio`` reading it from the files) as float64, what the metrics score."""
    return signal[seg.start : seg.end].astype(np.float64)


def pcm16_round_trip(x: np.ndarray) -> np.ndarray:
    """What writing PCM_16 and reading back does: x*32768, round half even, clip."""
    return np.clip(np.rint(x * 32768.0), -32768, 32767) / 32768.0


def skip_reason(
    seg: Segment,
    ref: np.ndarray,
    est: np.ndarray,
    earliest_start: int,
    min_length_s: float,
    fs: int = OUTPUT_RATE,
    before_start: str = BEFORE_START,
) -> tuple[str, str] | None:
    """(reason code, detail) when the segment is not scored, else None (upstream's order);
    ``before_start`` is the code of a segment starting before ``earliest_start``."""
    if seg.end > len(ref) or seg.end > len(est):
        return PAST_END, f"end {seg.end} beyond the signal ({min(len(ref), len(est))} samples)"
    if seg.start < earliest_start:
        return before_start, f"start {seg.start} < earliest start {earliest_start}"
    length = max(seg.end - seg.start, 0)
    if length / fs < min_length_s:
        return TOO_SHORT, f"{length / fs:.4f} s < {min_length_s} s"
    r = pcm16_round_trip(cut(ref, seg))
    if r.size == 0 or np.all(r == r[0]):
        return CONSTANT_REF, "reference segment has only one value"
    return None
