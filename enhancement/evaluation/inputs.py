"""What scoring needs from data_root, checked without the evaluation package's
imports (numpy, pandas, the metrics), which Snakemake's plan and the report jobs
would pay for: the datasets left unscored, and references and segment lists
that exist but hold nothing (treated as missing ones: named, not scored); and
where the scoring jobs' tables go, for the rules and ``evaluate_folder`` alike."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

HEADER = ("index", "start", "end")
# A scoring job's tables, one per segment type, inside a system's evaluation folder of a dataset.
SCORE_TABLE = "tables/{segment_type}/{session}.{device}.csv"


def segment_rows(path: Path | str) -> list[tuple[int, list[str]]]:
    """(line number, fields) of a segment list's rows: blank lines and an
    ``index,start,end`` header line left out (a file of neither lists no segment)."""
    with open(path, newline="") as f:
        rows = [(n, row) for n, row in enumerate(csv.reader(f), 1) if any(v.strip() for v in row)]
    if rows and tuple(v.strip().lower() for v in rows[0][1]) == HEADER:
        rows = rows[1:]
    return rows


def unusable_reason(path: Path | str) -> str | None:
    """Why a reference (.wav) or segment list (.csv) holds nothing to score,
    naming it: missing, empty (0 bytes), no audio (0 frames), no segment
    listed; None otherwise (a damaged file is left to the reader's error)."""
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        return f"{path} is missing"
    if path.stat().st_size == 0:
        return f"{path} is empty (0 bytes)"
    if path.suffix == ".csv":
        return None if segment_rows(path) else f"{path} lists no segment"
    try:
        frames = sf.info(str(path)).frames
    except (sf.LibsndfileError, RuntimeError):
        return None
    return f"{path} has no audio (0 frames)" if frames == 0 else None


def unscored_note(
    datasets: Sequence[str], evaluate_datasets: Sequence[str], with_references: Sequence[str]
) -> str | None:
    """One line naming the datasets run whose references exist (``with_references``)
    but that ``evaluate_datasets`` leaves unscored, and how to score them; None if none."""
    left = [d for d in datasets if d in with_references and d not in evaluate_datasets]
    if not left:
        return None
    wanted = ",".join(dict.fromkeys([*evaluate_datasets, *left]))
    return (
        f"{', '.join(left)}: references found but not scored, as evaluate_datasets is "
        f"[{','.join(evaluate_datasets)}]; to score {'them' if len(left) > 1 else 'it'}, "
        f"--config evaluate_datasets=[{wanted}]"
    )


# The reference of the comparison when compare_systems does not name one.
DEFAULT_REFERENCE = "passthrough"


def compared_systems(requested: Sequence[str], available: Sequence[str], system: str) -> tuple[list[str], list[str]]:
    """Which systems the comparison shows, in order (the first is the
    reference of the improvements), and which of ``requested`` it cannot show.

    ``available`` are the systems of the work folder with scores, or a
    finished submission to score, of the dataset; ``system`` is the one
    configured (always shown). An empty ``requested`` shows every available
    system: passthrough first where it is there, then by name. A non-empty one
    narrows and orders: its systems, then the configured one."""
    present = {*available, system}
    if requested:
        wanted = list(dict.fromkeys([*requested, system]))
    else:
        wanted = sorted(present, key=lambda s: (s != DEFAULT_REFERENCE, s))
    return [s for s in wanted if s in present], [s for s in wanted if s not in present]


def absent_note(dataset: str, absent: Sequence[str]) -> str:
    """How to add to the comparison the systems compare_systems names that
    have neither scores nor a finished submission of the dataset here."""
    return (
        f"compare ({dataset}): {', '.join(absent)} in compare_systems, but the work folder "
        f"holds neither scores nor a finished submission of {dataset} from "
        f"{'it' if len(absent) == 1 else 'them'}; run `snakemake --config "
        f"enhancement_name={absent[0]}`, or score a folder made elsewhere with "
        f"`python run_evaluation.py submission_dir=DIR system={absent[0]}`"
    )
