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

from ..data.audio import AudioError, audio_info
from ..data.challenge import OUTPUT_RATE
from ..data.manifest import Target
from . import segments as sg
from .inputs import unusable_reason
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
        ``checked_length``'s error)."""
        reasons = [
            f"its {what} is missing" if path is None else unusable_reason(path)
            for what, path in (("reference", self.reference), ("segment list", self.segments))
        ]
        if not Path(self.submission).is_file():
            reasons.append(f"{self.submission} is missing")
        return [why for why in reasons if why]


# Subtypes that cannot hold NaN or Inf: no scan for them.
INTEGER_SUBTYPES = ("PCM_S8", "PCM_U8", "PCM_16", "PCM_24", "PCM_32")
SCAN_FRAMES = 1 << 20  # frames per block of the NaN scan of a float file


def checked_length(path: Path | str, what: str, fs: int = OUTPUT_RATE) -> int:
    """Frames of a mono 16-kHz file about to be scored; an error naming the file
    when it is absent, damaged or empty (``AudioError``), or holds NaN or Inf."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: {what} not found")
    info = audio_info(path)  # unreadable, 0 frames, truncated: named as for a raw recording
    if info.samplerate != fs:
        raise ValueError(f"{path}: {what} is {info.samplerate} Hz; the evaluation needs {fs} Hz")
    if info.channels != 1:
        log.warning("%s: %s has %d channels; the first is scored (as upstream)", path, what, info.channels)
    if info.subtype not in INTEGER_SUBTYPES:
        done = 0
        for block in sf.blocks(path, blocksize=SCAN_FRAMES, dtype="float64", always_2d=True):
            finite = np.isfinite(block[:, 0])
            if not finite.all():
                frame = done + int(np.argmin(finite))
                bad = sum(
                    int((~np.isfinite(b[:, 0])).sum())
                    for b in sf.blocks(path, blocksize=SCAN_FRAMES, dtype="float64", always_2d=True)
                )
                raise AudioError(
                    f"{path}: {what} holds {bad} NaN or Inf samples (the first at frame "
                    f"{frame}, {frame / fs:.3f} s in); no score can be computed on them: re-export the file "
                    "or fix the samples"
                )
            done += len(block)
    return info.frames


class StoredAudio:
    """The first channel of one or more checked files, summed (each zero-padded to
    the longest, upstream's summed signals), read a segment at a time as float64.

    A job thus holds no whole signal, whatever the session's length (a 36-minute
    file is 276 MB as float64); the values are those of reading the files whole
    and summing them in order.
    """

    def __init__(self, files: Sequence[tuple[Path, int]]) -> None:
        self._files = list(files)
        self._length = max((n for _, n in self._files), default=0)
        # the last segment read: a segment's reference is cut twice (the
        # constant-reference check, then the metrics), and read once
        self._last: tuple[int, int, np.ndarray] | None = None

    @classmethod
    def of(cls, path: Path | str, what: str, fs: int = OUTPUT_RATE) -> StoredAudio:
        return cls([(Path(path), checked_length(path, what, fs))])

    @classmethod
    def summed(cls, parts: Sequence[StoredAudio]) -> StoredAudio:
        return cls([f for part in parts for f in part._files])

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, where: slice) -> np.ndarray:
        start, stop, _ = where.indices(self._length)
        if self._last is not None and self._last[:2] == (start, stop):
            return self._last[2].copy()
        out = np.zeros(max(stop - start, 0))
        for path, frames in self._files:
            lo, hi = min(start, frames), min(stop, frames)
            if hi > lo:
                with sf.SoundFile(path) as f:
                    f.seek(lo)
                    out[: hi - lo] += f.read(hi - lo, dtype="float64", always_2d=True)[:, 0]
        self._last = (start, stop, out.copy())
        return out


def _earliest(earliest_start_s: float, fs: int) -> int:
    return round(earliest_start_s * fs)


def score_segments(
    target: Target,
    segment_type: str,
    segs: Sequence[sg.Segment],
    ref: np.ndarray | StoredAudio,
    est: np.ndarray | StoredAudio,
    scorer: SegmentScorer,
    earliest_start_s: float = 30.0,
) -> list[dict]:
    """Rows for the segments of one target cut from (ref, est); each cut is
    scored as float64, whatever the signals' type."""
    earliest = _earliest(earliest_start_s, scorer.fs)
    before_start = sg.before_start_reason(earliest_start_s)
    min_len = minimum_length_s(scorer.families)
    rows = []
    for seg in segs:
        row: dict = {
            "key": seg.key(target.stem),
            "session": target.session,
            "device": target.device,
            "pid": target.pid,
            "segment_type": segment_type,
            "index": seg.index,
            "start": seg.start,
            "end": seg.end,
            "status": SCORED,
            "reason": "",
            "detail": "",
        }
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


def score_session_device(
    partners: Sequence[PartnerFiles], scorer: SegmentScorer, earliest_start_s: float = 30.0
) -> tuple[list[dict], list[dict]]:
    """The rows of one (session, device): its partners' ``individual`` segments and its ``summed`` ones.

    Partners are scored one after another; each segment is read from the files
    when it is scored (``StoredAudio``), so a job's memory does not grow with the
    session. For the summed segments, the partners' references are summed, and
    so are their submission files (each zero-padded to the longest); each
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
    refs, ests = [], []
    lists: list[tuple[Target, list[sg.Segment]]] = []
    for p in partners:
        if unusable[p.target]:
            continue
        stem = p.target.stem
        segs = sg.read_segments(p.segments)
        ref = StoredAudio.of(p.reference, f"reference of {stem}")
        est = StoredAudio.of(p.submission, f"submission file of {stem}")
        individual += score_segments(p.target, INDIVIDUAL, segs, ref, est, scorer, earliest_start_s)
        if summed_too:
            refs.append(ref)
            ests.append(est)
            lists.append((p.target, segs))
    ref_sum, est_sum = StoredAudio.summed(refs), StoredAudio.summed(ests)
    summed: list[dict] = []
    for target, segs in lists:
        summed += score_segments(target, SUMMED, segs, ref_sum, est_sum, scorer, earliest_start_s)
    return individual, summed
