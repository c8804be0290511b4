"""Scores of a submission against the clean references, on the segments the challenge scores.

The dev set (and the demo data) has, for every submission file
``{session}.{device}.{pid}.wav``, the partner's clean speech at the device
(``ref/{dataset}/{stem}.wav``, 16 kHz) and the partner's speech segments
(``metadata/ref/{dataset}/{stem}.csv``, headerless ``index,start,end`` in 16 kHz
samples). Only those segments are scored: each one is cut from the reference
and from the submission and gets SI-SDR, STOI and wideband PESQ.

Nothing is dropped silently: a segment running past the end of either file is
a row with status ``past_end`` (and a warning), a segment a metric cannot score
(PESQ finds no utterance, too little speech for STOI, a silent reference) keeps
the metrics it has and says why in ``note``.
"""

from __future__ import annotations

import csv
import logging
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from enhancement.audio import atomic_output

log = logging.getLogger(__name__)

RATE = 16000
METRICS = ("si_sdr", "stoi", "pesq")
WITH_SCORES = ("ok", "partial")  # statuses of a segment with at least one score
METRIC_LABELS = {"si_sdr": "SI-SDR (dB)", "stoi": "STOI", "pesq": "PESQ (wideband)"}
ID_COLUMNS = ("system", "dataset", "session", "device", "pid")


class SegmentListError(ValueError):
    """A segment list that cannot be read; names the file and line."""


class MetricUnavailable(ValueError):
    """A metric that cannot score a segment (the reason is the message)."""


@dataclass(frozen=True)
class Segment:
    index: int
    start: int
    end: int


@dataclass
class SegmentScore:
    """One row of ``metrics.csv``: a segment of a submission file and its scores."""

    system: str
    dataset: str
    session: str
    device: str
    pid: str
    segment: int | None  # None: a file with an empty segment list (status no_segments)
    start: int | None
    end: int | None
    seconds: float
    status: str  # ok | partial | past_end | invalid | no_segments
    si_sdr: float = math.nan
    stoi: float = math.nan
    pesq: float = math.nan
    note: str = ""


SCORE_COLUMNS = [f.name for f in fields(SegmentScore)]


def read_segments(path: Path | str) -> list[Segment]:
    """The segments of a headerless ``index,start,end`` CSV (16 kHz samples)."""
    segments = []
    with open(path, newline="") as handle:
        for line, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip():
                continue
            try:
                index, start, end = (int(field) for field in row)
            except ValueError:
                raise SegmentListError(
                    f"{path}, line {line}: expected 'index,start,end' as integers, got {','.join(row)!r}"
                ) from None
            segments.append(Segment(index, start, end))
    return segments


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB (Le Roux et al., 2019).

    Both signals are made zero-mean; the reference is scaled to its projection
    onto the estimate's direction, and what is left of the estimate is the
    distortion: ``10 log10(|a s|^2 / |a s - x|^2)`` with ``a = <x, s> / |s|^2``.
    """
    reference = np.asarray(reference, dtype=np.float64)
    estimate = np.asarray(estimate, dtype=np.float64)
    if reference.shape != estimate.shape:
        raise ValueError(f"reference and estimate differ in shape: {reference.shape} vs {estimate.shape}")
    reference = reference - reference.mean()
    estimate = estimate - estimate.mean()
    energy = np.dot(reference, reference)
    if energy <= 0:
        raise MetricUnavailable("SI-SDR: the reference is silent")
    if not np.any(estimate):
        raise MetricUnavailable("SI-SDR: the output is silent (0/0)")
    target = np.dot(estimate, reference) / energy * reference
    distortion = estimate - target
    target_energy, distortion_energy = np.dot(target, target), np.dot(distortion, distortion)
    if distortion_energy <= 0:
        return math.inf
    if target_energy <= 0:
        return -math.inf
    return float(10 * np.log10(target_energy / distortion_energy))


def stoi(reference: np.ndarray, estimate: np.ndarray, rate: int = RATE) -> float:
    """Short-time objective intelligibility (Taal et al., 2011), via pystoi."""
    from pystoi import stoi as pystoi_stoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        score = pystoi_stoi(np.asarray(reference, np.float64), np.asarray(estimate, np.float64), rate)
    # pystoi answers 1e-5 with a warning when too little speech is left
    # once silent frames are removed: that is not a score.
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        raise MetricUnavailable("STOI: too little speech in the reference")
    return float(score)


def pesq(reference: np.ndarray, estimate: np.ndarray, rate: int = RATE) -> float:
    """Wideband PESQ (ITU-T P.862.2) MOS-LQO, via the ``pesq`` package."""
    from pesq import PesqError
    from pesq import pesq as pesq_score

    reference, estimate = np.asarray(reference, np.float64), np.asarray(estimate, np.float64)
    if not np.any(reference):
        raise MetricUnavailable("PESQ: the reference is silent")
    if not np.any(estimate):
        # The C library fails on an all-zero output; a dither far below one
        # PCM_16 step lets it score the silence for what it is (about 1.03).
        estimate = 1e-7 * np.random.default_rng(0).standard_normal(len(estimate))
    try:
        with np.errstate(invalid="ignore", divide="ignore"):
            return float(pesq_score(rate, reference, estimate, "wb"))
    except ValueError as exc:  # NaN inside the C library: a degenerate signal
        raise MetricUnavailable(f"PESQ: failed on this segment ({exc})") from None
    except PesqError as exc:
        reason = exc.args[0] if exc.args else type(exc).__name__
        if isinstance(reason, bytes):  # the C library's message
            reason = reason.decode(errors="replace")
        raise MetricUnavailable(f"PESQ: {str(reason).rstrip('.').lower()}") from None


METRIC_FUNCTIONS = {"si_sdr": si_sdr, "stoi": stoi, "pesq": pesq}


def score_segment(
    reference: np.ndarray, estimate: np.ndarray, segment: Segment, context: Mapping[str, str]
) -> SegmentScore:
    """Score one segment of a file pair (``context``: the :data:`ID_COLUMNS`)."""
    row = SegmentScore(
        **context, segment=segment.index, start=segment.start, end=segment.end,
        seconds=round((segment.end - segment.start) / RATE, 4), status="ok",
    )
    if segment.start < 0 or segment.end <= segment.start:
        row.status, row.note = "invalid", "end is not after start"
        return row
    available = min(len(reference), len(estimate))
    if segment.end > available:
        which = "reference" if len(reference) <= len(estimate) else "submission"
        row.status = "past_end"
        row.note = f"ends at {segment.end}, the {which} at {available} samples; not scored"
        return row
    ref, est = reference[segment.start : segment.end], estimate[segment.start : segment.end]
    notes = []
    for name, metric in METRIC_FUNCTIONS.items():
        try:
            setattr(row, name, metric(ref, est))
        except MetricUnavailable as exc:
            notes.append(str(exc))
    if notes:
        row.status, row.note = "partial", "; ".join(notes)
    return row


def read_mono(path: Path | str, rate: int = RATE) -> np.ndarray:
    """A mono file at ``rate`` as float32 (the submission format, and the references')."""
    data, file_rate = sf.read(str(path), dtype="float32", always_2d=True)
    if file_rate != rate:
        raise ValueError(f"{path}: {file_rate} Hz, expected {rate}")
    if data.shape[1] != 1:
        raise ValueError(f"{path}: {data.shape[1]} channels, expected 1")
    return data[:, 0]


def evaluate_file(
    submission: Path | str, reference: Path | str, segments: Path | str, context: Mapping[str, str]
) -> list[SegmentScore]:
    """Scores of every segment of one submission file, in the segment list's order."""
    estimate = read_mono(submission)
    clean = read_mono(reference)
    if len(estimate) != len(clean):
        log.info("%s: %d samples, its reference %d", Path(submission).name, len(estimate), len(clean))
    name = Path(submission).name
    rows = [score_segment(clean, estimate, segment, context) for segment in read_segments(segments)]
    for row in rows:
        if row.status == "past_end":
            log.warning("%s: segment %d %s", name, row.segment, row.note)
        elif row.status != "ok":
            log.info("%s: segment %d %s: %s", name, row.segment, row.status, row.note)
    log.info("%s: %d segments, %d with scores", name, len(rows), sum(r.status in WITH_SCORES for r in rows))
    if not rows:
        log.warning("%s: its segment list %s is empty; nothing to score", name, segments)
        rows = [SegmentScore(**context, segment=None, start=None, end=None, seconds=0.0, status="no_segments",
                             note="the segment list is empty")]
    return rows


def write_scores(rows: Iterable[SegmentScore], path: Path | str) -> None:
    table = pd.DataFrame([asdict(r) for r in rows], columns=SCORE_COLUMNS)
    write_csv(table, path)


def write_csv(table: pd.DataFrame, path: Path | str) -> None:
    with atomic_output(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.4f")


def read_scores(paths: Iterable[Path | str]) -> pd.DataFrame:
    """The rows of per-file score tables, in one table."""
    types = {"segment": "Int64", "start": "Int64", "end": "Int64", "seconds": float,
             **{c: str for c in ("system", "dataset", "session", "device", "pid", "status", "note")}}
    frames = [pd.read_csv(p, dtype=types, keep_default_na=False, na_values={
        c: [""] for c in ("segment", "start", "end", *METRICS)}) for p in paths]
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[SCORE_COLUMNS]


def _with_counts(scores: pd.DataFrame) -> pd.DataFrame:
    """The scores with 0/1 columns to sum (segments, scored, partial, past_end) and a file name."""
    return scores.assign(
        file=scores.session + "." + scores.device + "." + scores.pid,
        segments=(scores.status != "no_segments").astype(int),
        scored=(scores.status == "ok").astype(int),
        partial=(scores.status == "partial").astype(int),
        past_end=(scores.status == "past_end").astype(int),
    )


def _counts_and_means(table: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per group of ``keys``: files; segments, those scored by every metric
    (``scored``), by some (``partial``), and those running past the end; and
    the mean of each metric over the segments it scored."""
    summary = table.groupby(keys, sort=False).agg(
        files=("file", "nunique"), segments=("segments", "sum"), scored=("scored", "sum"),
        partial=("partial", "sum"), past_end=("past_end", "sum"), **{m: (m, "mean") for m in METRICS},
    )
    return summary.reset_index()


def summarise_by_file(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per submission file: segment counts and mean scores of its scored segments."""
    return _counts_and_means(_with_counts(scores), list(ID_COLUMNS)).drop(columns="files")


def summarise_by_device(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per device, and one (device ``all``) for all devices together:
    counts and mean scores over the scored segments (each segment weighs the same)."""
    table = _with_counts(scores)
    keys = ["system", "dataset", "device"]
    return pd.concat(
        [_counts_and_means(table, keys), _counts_and_means(table.assign(device="all"), keys)],
        ignore_index=True,
    )


def write_metrics_tables(
    per_file_scores: Iterable[Path | str], segments_csv: Path | str, by_file_csv: Path | str,
    by_device_csv: Path | str,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Gather the per-file scores of a submission into its three tables."""
    scores = read_scores(per_file_scores)
    by_file, by_device = summarise_by_file(scores), summarise_by_device(scores)
    write_csv(scores, segments_csv)
    write_csv(by_file, by_file_csv)
    write_csv(by_device, by_device_csv)
    for row in by_device.itertuples():
        log.info("%s %s %s: %d of %d segments scored; SI-SDR %.2f dB, STOI %.3f, PESQ %.2f",
                 row.system, row.dataset, row.device, row.scored, row.segments, row.si_sdr, row.stoi, row.pesq)
    if (scores.status == "past_end").any():
        log.warning("%d segments run past the end of their file (status past_end in %s)",
                    int((scores.status == "past_end").sum()), segments_csv)
    return scores, by_file, by_device


def compare_systems(scores: Mapping[str, pd.DataFrame], reference_system: str = "passthrough") -> pd.DataFrame:
    """Counts and mean scores per system and device (and over all devices),
    with the improvement over ``reference_system`` where it is among them.

    The improvement is the mean of the per-segment differences over the
    segments both systems scored, so a segment one system could not score
    does not tilt the comparison.
    """
    keys = ["session", "device", "pid", "segment"]
    base = scores.get(reference_system)
    tables = []
    for system, table in scores.items():
        summary = summarise_by_device(table.assign(system=system)).drop(columns="dataset")
        if base is not None:
            both = table.merge(base, on=keys, suffixes=("", "_base"))
            for m in METRICS:
                both[f"{m}_improvement"] = both[m] - both[f"{m}_base"]
            gains = [f"{m}_improvement" for m in METRICS]
            per_device = both.groupby("device", sort=False)[gains].mean()
            per_device.loc["all"] = both[gains].mean()
            summary = summary.join(per_device, on="device")
        tables.append(summary)
    return pd.concat(tables, ignore_index=True)
