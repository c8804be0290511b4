"""The report's listening pages: the same excerpts of the input, the clean
reference and every compared system, so a listener hears what the scores say.

The excerpts are chosen to tell something: from the score tables, the kept
segments where the page's system falls most below the reference system on the
main key (the first of HEADLINE_KEYS the metric set has; for a key where lower
is better, rises most above it). Where the system is the reference, or there
are no scores to pair, the first kept segments. Each excerpt is labelled with
its time and the scores behind the choice.

Audio is embedded (the report is one self-contained file) as 16 kHz FLAC:
lossless, so what is heard is what was scored, at about two thirds of a WAV's
size; the device's input (48 kHz) is resampled to the same rate.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from enhancement.data.challenge import OUTPUT_RATE
from enhancement.evaluation.headline import HEADLINE_KEYS, higher_is_better
from enhancement.evaluation.tables import SCORED, read_table
from enhancement.report.figures import html_page, write_page

EXCERPTS = 3
EXCERPT_SECONDS = 4.0  # at most: a longer segment is played from its start

STYLE = """
h2 { font-size: 13px; }
table { border-collapse: collapse; }
td { padding: 2px 8px 2px 0; vertical-align: middle; }
td.echi-label { min-width: 16em; }
audio { height: 32px; width: 320px; }
"""


@dataclass(frozen=True)
class Segment:
    """A kept segment of one partner, in samples at 16 kHz, and its main-key score."""

    key: str
    index: int
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Excerpt:
    """A stretch every player plays, and why it was chosen (plain text)."""

    start_s: float
    seconds: float
    label: str


@dataclass(frozen=True)
class Clip:
    """A player: its label, and its file (None: not found, ``missing`` says why)."""

    label: str
    path: Path | str | None
    missing: str = ""


def main_key(keys: Sequence[str]) -> str | None:
    """The key excerpts are chosen by: the first headline key the table has."""
    return next((k for k in HEADLINE_KEYS if k in keys), None)


def kept_segments(table: Path | str, pid: str, key: str | None = None) -> tuple[list[Segment], str | None]:
    """A partner's kept individual segments in a score table, in time order,
    with their score on ``key`` (default: the table's main key), and that key."""
    rows, keys = read_table(Path(table))
    key = key or main_key(keys)
    kept = [
        Segment(r["key"], r["index"], r["start"], r["end"], float(r.get(key, math.nan)) if key else math.nan)
        for r in rows
        if r["pid"] == pid and r["status"] == SCORED and r["segment_type"] == "individual"
    ]
    return sorted(kept, key=lambda s: s.start), key


def span(start: int, end: int) -> tuple[float, float]:
    """An excerpt's start and length in seconds: the segment, at most EXCERPT_SECONDS."""
    return start / OUTPUT_RATE, min((end - start) / OUTPUT_RATE, EXCERPT_SECONDS)


def when(segment: Segment) -> str:
    """A segment's time, and what of it is played."""
    start, end = segment.start / OUTPUT_RATE, segment.end / OUTPUT_RATE
    played = f"; its first {EXCERPT_SECONDS:g} s played" if end - start > EXCERPT_SECONDS else ""
    return f"{start:.2f} s to {end:.2f} s (segment {segment.index}{played})"


def losses(ours: Sequence[Segment], theirs: Sequence[Segment], key: str) -> list[tuple[float, Segment, Segment]]:
    """Segments scored by both, each with how much ours loses (positive: worse
    than theirs, by the key's direction), the biggest loss first (ties: in time order)."""
    by_key = {s.key: s for s in theirs}
    sign = 1 if higher_is_better(key) else -1
    paired = [
        (sign * (t.score - o.score), o, t)
        for o in ours
        if (t := by_key.get(o.key)) and math.isfinite(o.score) and math.isfinite(t.score)
    ]
    return sorted(paired, key=lambda p: (-p[0], p[1].start))


def choose_excerpts(
    ours: Path | str | None,
    theirs: Path | str | None,
    pid: str,
    system: str,
    reference_system: str,
    first_starts: Sequence[tuple[int, int]] = (),
    count: int = EXCERPTS,
) -> tuple[list[Excerpt], str]:
    """The excerpts of a partner's page and how they were chosen: from the
    system's score table ``ours`` and the reference system's ``theirs``, the
    ``count`` segments where the system loses most; without a pair (the system
    is the reference, or no scores), its first kept segments; without scores,
    the first of ``first_starts`` ((start, end) in samples); without those,
    the first seconds."""
    segments, key = kept_segments(ours, pid) if ours else ([], None)
    if segments and key and theirs and reference_system != system:
        reference, _ = kept_segments(theirs, pid, key)
        ranked = losses(segments, reference, key)[:count]
        if ranked:
            excerpts = [
                Excerpt(
                    *span(o.start, o.end),
                    f"{when(o)}: {key} {system} {o.score:.3f}, {reference_system} {t.score:.3f} "
                    f"({o.score - t.score:+.3f})",
                )
                for _, o, t in ranked
            ]
            how = (
                f"The {len(excerpts)} kept segments where {system} does worst against {reference_system} on "
                f"{key} ({'higher' if higher_is_better(key) else 'lower'} is better): its smallest improvements "
                f"(or biggest losses), the smallest first"
            )
            return excerpts, how
    if segments:
        excerpts = [
            Excerpt(*span(s.start, s.end), f"{when(s)}: {key} {system} {s.score:.3f}" if key else when(s))
            for s in segments[:count]
        ]
        why = "it is the reference system" if reference_system == system else "no reference system's scores to pair"
        return excerpts, f"The first {len(excerpts)} kept segments ({why})"
    if first_starts:
        excerpts = [
            Excerpt(*span(start, end), f"{start / OUTPUT_RATE:.2f} s to {end / OUTPUT_RATE:.2f} s")
            for start, end in first_starts[:count]
        ]
        return excerpts, f"The first {len(excerpts)} segments the scores would count (no scores)"
    return [Excerpt(0.0, EXCERPT_SECONDS, f"0.00 s to {EXCERPT_SECONDS:.2f} s")], "The first seconds (no segment list)"


def channel0(path: Path | str, start_s: float, seconds: float, rate: int = OUTPUT_RATE) -> np.ndarray:
    """``seconds`` of channel 0 of a file from ``start_s`` (only those frames
    are read), at ``rate``."""
    with sf.SoundFile(str(path)) as handle:
        source_rate = handle.samplerate
        handle.seek(min(int(round(start_s * source_rate)), handle.frames))
        data = handle.read(frames=int(round(seconds * source_rate)), dtype="float32", always_2d=True)[:, 0]
    if source_rate != rate and len(data):
        import soxr

        data = soxr.resample(data, source_rate, rate).astype(np.float32)
    return data


def flac_data_uri(signal: np.ndarray, rate: int = OUTPUT_RATE) -> str:
    buffer = io.BytesIO()
    sf.write(buffer, np.clip(signal, -1, 1), rate, format="FLAC", subtype="PCM_16")
    return "data:audio/flac;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def player(clip: Clip, excerpt: Excerpt) -> str:
    uri = flac_data_uri(channel0(clip.path, excerpt.start_s, excerpt.seconds))
    return (
        f'<tr><td class="echi-label">{html.escape(clip.label)}</td>'
        f'<td><audio controls preload="none" src="{uri}"></audio></td></tr>'
    )


def listening_page(
    clips: Sequence[Clip], excerpts: Sequence[Excerpt], output: Path | str, title: str, note: str
) -> None:
    """A page of players: for each excerpt, every clip's same stretch; a clip
    without a file is named once, with why."""
    played = [c for c in clips if c.path is not None]
    missing = "".join(
        f"<p>Not played: {html.escape(c.label)} ({html.escape(c.missing)}).</p>\n" for c in clips if c.path is None
    )
    sections = []
    for n, excerpt in enumerate(excerpts, 1):
        rows = "\n".join(player(clip, excerpt) for clip in played)
        sections.append(f"<h2>{n}. {html.escape(excerpt.label)}</h2>\n<table><tbody>\n{rows}\n</tbody></table>\n")
    write_page(output, html_page(title, missing + "".join(sections), STYLE, note))
