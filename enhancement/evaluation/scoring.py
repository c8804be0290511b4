"""The segment scoring: a submission file's individual segments, a (session, device)'s summed ones.

Each function loads its files once, uses one metric state (``SegmentScorer``)
and returns one row per segment: scored rows carry every metric key, skipped
rows carry their reason. ``write_table`` stores them for the aggregation.
Audio is checked as the raw recordings are: a damaged file, or one holding
NaN or Inf, is an error naming it (a NaN would score as stoi 1e-05, pesq 0).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import AudioError, audio_info
from ..challenge import OUTPUT_RATE, REFERENCE, SEGMENTS
from ..manifest import Target
from ..scoring_inputs import unusable_reason
from . import segments as sg
from .metrics import SegmentMetricError, SegmentScorer, minimum_length_s
from .tables import SCORED, SKIPPED

log = logging.getLogger(__name__)
INDIVIDUAL = "individual"
SUMMED = "summed"
SEGMENT_TYPES = (INDIVIDUAL, SUMMED)


def read_audio(path: Path, what: str, fs: int = OUTPUT_RATE) -> np.ndarray:
    """Mono float64 samples of a 16-kHz file; an error naming the file when it
    is absent, damaged or empty (``AudioError``), or holds NaN or Inf."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    audio_info(path)  # unreadable, 0 frames, truncated: named as for a raw recording
    x, rate = sf.read(path, dtype="float64", always_2d=True)
    if rate != fs:
        raise ValueError(f"{path}: {what} is {rate} Hz; the evaluation needs {fs} Hz")
    if x.shape[1] != 1:
        log.warning("%s: %s has %d channels; the first is scored (as upstream)", path, what, x.shape[1])
    x = np.ascontiguousarray(x[:, 0])
    finite = np.isfinite(x)
    if not finite.all():
        frame = int(np.argmin(finite))
        raise AudioError(
            f"{path}: {what} holds {x.size - int(finite.sum())} NaN or Inf samples (the first at frame "
            f"{frame}, {frame / rate:.3f} s in); no score can be computed on them: re-export the file "
            "or fix the samples")
    return x


def unusable_scoring_inputs(data_root: Path, dataset: str, targets: Sequence[Target]) -> list[str]:
    """Why the references and segment lists of ``targets`` cannot be scored, one
    phrase per file naming it (missing, empty, no audio, no segment): such a
    target is not scored, as one without a reference; a damaged file is left to
    ``read_audio``'s error."""
    paths = [p for t in targets for p in (t.in_data_root(data_root, REFERENCE),
                                          t.in_data_root(data_root, SEGMENTS))]
    return [why for why in map(unusable_reason, paths) if why]


def _earliest(earliest_start_s: float, fs: int) -> int:
    return round(earliest_start_s * fs)


def score_segments(target: Target, segment_type: str, segs: Sequence[sg.Segment],
                   ref: np.ndarray, est: np.ndarray, scorer: SegmentScorer,
                   earliest_start_s: float = 30.0) -> list[dict]:
    """Rows for the segments of one target cut from (ref, est)."""
    earliest = _earliest(earliest_start_s, scorer.fs)
    before_start = sg.before_start_reason(earliest_start_s)
    min_len = minimum_length_s(scorer.families)
    rows = []
    for seg in segs:
        row: dict = {"key": seg.key(target.stem), "session": target.session, "device": target.device,
                     "pid": target.pid, "segment_type": segment_type, "index": seg.index,
                     "start": seg.start, "end": seg.end, "status": SCORED, "reason": "", "detail": ""}
        skip = sg.skip_reason(seg, ref, est, earliest, min_len, scorer.fs, before_start)
        if skip is None:
            r = sg.pcm16_round_trip(ref[seg.start: seg.end])
            e = sg.pcm16_round_trip(est[seg.start: seg.end])
            try:
                row.update(scorer.score(e, r))
            except SegmentMetricError as err:
                skip = (sg.METRIC_FAILED, str(err))
        if skip is not None:
            row.update(status=SKIPPED, reason=skip[0], detail=skip[1])
            if skip[0] != before_start:
                log.info("%s %s: not scored (%s: %s)", segment_type, row["key"], *skip)
        rows.append(row)
    return rows


def score_individual(data_root: Path, dataset: str, target: Target, output_wav: Path,
                     scorer: SegmentScorer | None = None, earliest_start_s: float = 30.0,
                     metrics: str | Sequence[str] = "full") -> list[dict]:
    """Score the ``individual`` segments of one submission file against its reference."""
    scorer = scorer or SegmentScorer(metrics)
    segs = sg.read_segments(target.in_data_root(data_root, SEGMENTS))
    ref = read_audio(target.in_data_root(data_root, REFERENCE), f"reference of {target.stem}")
    est = read_audio(output_wav, f"submission file of {target.stem}")
    return score_segments(target, INDIVIDUAL, segs, ref, est, scorer, earliest_start_s)


def score_summed(data_root: Path, dataset: str, session: str, device: str,
                 partners: Sequence[str], output_wavs: Sequence[Path],
                 scorer: SegmentScorer | None = None, earliest_start_s: float = 30.0,
                 metrics: str | Sequence[str] = "full") -> list[dict]:
    """Score the ``summed`` segments of one (session, device).

    The partners' references are summed, and so are their outputs (each zero-padded
    to the longest); each partner's segment list then cuts the two sums.
    ``output_wavs`` are the partners' submission files, in the order of ``partners``.
    """
    if len(partners) != len(output_wavs):
        raise ValueError(f"{session}.{device}: {len(partners)} partners but {len(output_wavs)} outputs")
    scorer = scorer or SegmentScorer(metrics)
    targets = [Target(dataset, session, device, p) for p in partners]
    ref = sg.sum_signals([read_audio(t.in_data_root(data_root, REFERENCE), f"reference of {t.stem}")
                          for t in targets])
    est = sg.sum_signals([read_audio(w, f"submission file of {t.stem}")
                          for t, w in zip(targets, output_wavs)])
    rows = []
    for t in targets:
        segs = sg.read_segments(t.in_data_root(data_root, SEGMENTS))
        rows += score_segments(t, SUMMED, segs, ref, est, scorer, earliest_start_s)
    return rows
