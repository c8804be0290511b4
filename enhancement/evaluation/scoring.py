"""The segment scoring of one (session, device): each partner's individual segments, and the summed ones.

One call scores a session-device with one metric state (``SegmentScorer``),
reading each file once, and returns one row per segment: scored rows carry
every metric key, skipped rows carry their reason. ``write_table`` stores them
for the aggregation. A partner whose reference or segment list is missing or
empty is not scored (a warning naming the file), and then neither are the
session-device's summed segments; the other partners are.
Audio is checked as the raw recordings are: a damaged file, or one holding
NaN or Inf, is an error naming it (a NaN would score as stoi 1e-05, pesq 0).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..audio import AudioError, audio_info
from ..challenge import OUTPUT_RATE
from ..manifest import Target
from ..scoring_inputs import unusable_reason
from . import segments as sg
from .metrics import SegmentMetricError, SegmentScorer, minimum_length_s
from .tables import SCORED, SKIPPED

log = logging.getLogger(__name__)
INDIVIDUAL = "individual"
SUMMED = "summed"
SEGMENT_TYPES = (INDIVIDUAL, SUMMED)


@dataclass(frozen=True)
class PartnerFiles:
    """What scoring one partner of a session-device reads: its submission file,
    its reference and its segment list (None: there is none, e.g. a file missing
    from data_root, which is then no input of the workflow's rule)."""

    target: Target
    submission: Path | str
    reference: Path | str | None
    segments: Path | str | None

    def unusable(self) -> list[str]:
        """Why this partner cannot be scored, one phrase per file naming it:
        missing, empty, no audio, no segment (a damaged file is left to
        ``read_audio``'s error)."""
        reasons = [f"its {what} is missing" if path is None else unusable_reason(path)
                   for what, path in (("reference", self.reference), ("segment list", self.segments))]
        if not Path(self.submission).is_file():
            reasons.append(f"{self.submission} is missing")
        return [why for why in reasons if why]


# Stored samples that float32 holds exactly, and the sum of three of them too
# (at most 3 * 2**15 steps of 2**-15: 17 of float32's 24 bits).
EXACT_IN_FLOAT32 = ("PCM_S8", "PCM_U8", "PCM_16")


def read_audio(path: Path | str, what: str, fs: int = OUTPUT_RATE) -> np.ndarray:
    """Mono samples of a 16-kHz file; an error naming the file when it is absent,
    damaged or empty (``AudioError``), or holds NaN or Inf.

    float32 for PCM_16 files (the submission's format, and the references'):
    the very values float64 would hold, at half the memory (a 36-minute file is
    138 MB). Other formats are read as float64. Cut segments are scored as
    float64 (``score_segments``), so the numbers do not depend on it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    info = audio_info(path)  # unreadable, 0 frames, truncated: named as for a raw recording
    dtype = "float32" if info.subtype in EXACT_IN_FLOAT32 else "float64"
    x, rate = sf.read(path, dtype=dtype, always_2d=True)
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


def _earliest(earliest_start_s: float, fs: int) -> int:
    return round(earliest_start_s * fs)


def score_segments(target: Target, segment_type: str, segs: Sequence[sg.Segment],
                   ref: np.ndarray, est: np.ndarray, scorer: SegmentScorer,
                   earliest_start_s: float = 30.0) -> list[dict]:
    """Rows for the segments of one target cut from (ref, est); each cut is
    scored as float64, whatever the signals' type."""
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
            r = sg.pcm16_round_trip(sg.cut(ref, seg))
            e = sg.pcm16_round_trip(sg.cut(est, seg))
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


def score_session_device(partners: Sequence[PartnerFiles], scorer: SegmentScorer,
                         earliest_start_s: float = 30.0) -> tuple[list[dict], list[dict]]:
    """The rows of one (session, device): its partners' ``individual`` segments and its ``summed`` ones.

    Partners are scored one after another (reference and submission read,
    scored, let go) while their sums build up, so a job holds four signals at
    most, in float32 for PCM_16 files (550 MB for a 36-minute session):
    the partners' references are summed, and so are their submission files
    (each zero-padded to the longest; PCM_16 sums are exact in float32); each
    partner's segment list then cuts the two sums. A partner
    that cannot be scored (``PartnerFiles.unusable``) is left out with a
    warning, and so are the summed segments.
    """
    unusable = {p.target: p.unusable() for p in partners}
    for p in partners:
        if unusable[p.target]:
            log.warning("%s is not scored: %s", p.target.stem, "; ".join(unusable[p.target]))
    reasons = [why for p in partners for why in unusable[p.target]]
    summed_too = bool(partners) and not reasons
    if partners and reasons:
        first = partners[0].target
        log.warning("%s.%s summed is not scored: %s", first.session, first.device, "; ".join(reasons))
    individual: list[dict] = []
    ref_sum = est_sum = None
    lists: list[tuple[Target, list[sg.Segment]]] = []
    for p in partners:
        if unusable[p.target]:
            continue
        stem = p.target.stem
        segs = sg.read_segments(p.segments)
        ref = read_audio(p.reference, f"reference of {stem}")
        est = read_audio(p.submission, f"submission file of {stem}")
        individual += score_segments(p.target, INDIVIDUAL, segs, ref, est, scorer, earliest_start_s)
        if summed_too:
            ref_sum, est_sum = sg.add_signal(ref_sum, ref), sg.add_signal(est_sum, est)
            lists.append((p.target, segs))
        del ref, est  # one partner's audio at a time, besides the sums
    summed: list[dict] = []
    for target, segs in lists:
        summed += score_segments(target, SUMMED, segs, ref_sum, est_sum, scorer, earliest_start_s)
    return individual, summed
