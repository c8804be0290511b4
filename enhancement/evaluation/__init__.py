"""The official CHiME-9 ECHI evaluation as a library: per-job scoring, statistics, reports.

``evaluate_folder`` runs it all serially; the workflow calls ``score_individual``,
``score_summed``, ``write_table``/``read_table`` and ``write_reports`` as jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from ..manifest import Target, manifest_path, read_manifest, targets_of
from .metrics import NOT_COMPUTED, SegmentScorer, metric_keys, resolve_metrics
from .reports import write_reports
from .scoring import SEGMENT_TYPES, score_individual, score_summed, unusable_scoring_inputs
from .tables import read_table, write_table

__all__ = [
    "NOT_COMPUTED",
    "SEGMENT_TYPES",
    "SegmentScorer",
    "Target",
    "evaluate_folder",
    "metric_keys",
    "read_table",
    "resolve_metrics",
    "score_individual",
    "score_summed",
    "write_reports",
    "write_table",
]
log = logging.getLogger(__name__)


def evaluate_folder(data_root: Path, submission_dir: Path, dataset: str, out_dir: Path,
                    metrics: str | Sequence[str] = "full", earliest_start_s: float = 30.0,
                    devices: tuple[str, ...] = ("aria", "ha")) -> dict:
    """Score a submission folder (``{session}.{device}.{pid}.wav``) and write every report.

    Serial: one individual job per target and one summed job per (session, device);
    tables go to ``out_dir/tables/``, reports to ``out_dir``. A target whose output is
    missing, or whose reference or segment list is missing or empty, is left out with
    a warning naming the file.
    """
    data_root, submission_dir, out_dir = Path(data_root), Path(submission_dir), Path(out_dir)
    scorer = SegmentScorer(metrics)
    targets = targets_of(read_manifest(manifest_path(data_root, dataset), dataset), devices)
    rows: list[dict] = []
    for t in targets:
        unusable = unusable_scoring_inputs(data_root, dataset, [t])
        if unusable:
            log.warning("%s is not scored: %s", t.stem, "; ".join(unusable))
            continue
        try:
            part = score_individual(data_root, dataset, t, submission_dir / f"{t.stem}.wav", scorer,
                                    earliest_start_s)
        except FileNotFoundError as err:
            log.warning("individual %s not scored: %s", t.stem, err)
            continue
        write_table(part, scorer.keys, out_dir / "tables" / f"{t.stem}.individual.csv")
        rows += part
    groups: dict[tuple[str, str], list[str]] = {}
    for t in targets:
        groups.setdefault((t.session, t.device), []).append(t.pid)
    for (session, device), pids in groups.items():
        wavs = [submission_dir / f"{session}.{device}.{p}.wav" for p in pids]
        unusable = unusable_scoring_inputs(data_root, dataset, [Target(dataset, session, device, p) for p in pids])
        if unusable:
            log.warning("%s.%s summed is not scored: %s", session, device, "; ".join(unusable))
            continue
        try:
            part = score_summed(data_root, dataset, session, device, pids, wavs, scorer, earliest_start_s)
        except FileNotFoundError as err:
            log.warning("summed %s.%s not scored: %s", session, device, err)
            continue
        write_table(part, scorer.keys, out_dir / "tables" / f"{session}.{device}.summed.csv")
        rows += part
    return write_reports(rows, scorer.keys, dataset, out_dir, devices, SEGMENT_TYPES, earliest_start_s,
                         metric_set=metrics if isinstance(metrics, str) else list(metrics))
