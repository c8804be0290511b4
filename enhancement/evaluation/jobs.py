"""The evaluation as the workflow runs it: one call per job.

A scoring job scores one (session, device): each partner's individual
segments and the summed ones, into two tables. It tolerates a missing or
empty reference or segment list (a warning naming the file: that partner and
the summed segments are not scored, the other partners are); the report job
turns the tables of a (system, dataset) into the official report files; the
comparison puts systems side by side on the official ``weighted_mean``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .metrics import SegmentScorer, metric_keys, resolve_metrics
from .reports import report_name, write_reports
from .scoring import INDIVIDUAL, SEGMENT_TYPES, SUMMED, PartnerFiles, score_session_device
from .tables import SCORED, read_table, write_table

log = logging.getLogger(__name__)

# The comparison's main columns, where the metric set has them (the official primary numbers first).
MAIN_KEYS = ("si_snr", "sdr", "ci_sdr", "pesq", "stoi", "pysepm_fwsegsnr", "pysepm_c_ovl", "dns_overall")


def score_job(
    partners: Sequence[PartnerFiles],
    individual_table: Path,
    summed_table: Path,
    metrics: str | Sequence[str],
    earliest_start_s: float,
) -> None:
    """One (session, device), its partners in seat order: the individual segments
    into ``individual_table``, the summed ones into ``summed_table``. The metric
    state is built once for both (its set-up and imports are most of a small job)."""
    scorer = SegmentScorer(metrics)
    individual, summed = score_session_device(partners, scorer, earliest_start_s)
    for rows, table in ((individual, individual_table), (summed, summed_table)):
        write_table(rows, scorer.keys, Path(table))
    if partners:
        first = partners[0].target
        log.info(
            "%s.%s: %d individual segments (%d scored), %d summed (%d scored)",
            first.session,
            first.device,
            len(individual),
            sum(r["status"] == SCORED for r in individual),
            len(summed),
            sum(r["status"] == SCORED for r in summed),
        )


def read_tables(paths: Sequence[Path]) -> tuple[list[dict], list[str]]:
    rows: list[dict] = []
    keys: list[str] = []
    for path in paths:
        table_rows, table_keys = read_table(Path(path))
        rows += table_rows
        keys = keys or table_keys
    return rows, keys


def report_job(
    tables: Sequence[Path],
    dataset: str,
    out_dir: Path,
    devices: Sequence[str],
    earliest_start_s: float,
    metrics: str | Sequence[str],
) -> dict:
    """Every official report file of one system and dataset, from its tables."""
    rows, keys = read_tables(tables)
    keys = keys or metric_keys(resolve_metrics(metrics))
    summary = write_reports(
        rows,
        keys,
        dataset,
        Path(out_dir),
        devices=tuple(devices),
        earliest_start_s=earliest_start_s,
        metric_set=metrics,
    )
    log.info(
        "reports for %s in %s: %d segments, %d kept",
        dataset,
        out_dir,
        len(rows),
        sum(r["status"] == SCORED for r in rows),
    )
    return summary


def device_numbers(out_dir: Path, dataset: str, devices: Sequence[str]) -> pd.DataFrame:
    """The official device-level numbers: one row per (device, segment type),
    the count and the ``weighted_mean`` of every key."""
    records = []
    for device in devices:
        for stype in SEGMENT_TYPES:
            path = Path(out_dir) / report_name(dataset, device, stype)
            report = json.loads(path.read_text())
            record = {"device": device, "segment_type": stype}
            counts = [v.get("count", 0) for k, v in report.items() if k not in ("duration", "start_time")]
            record["segments"] = max(counts, default=0)
            for key, stats in report.items():
                if key not in ("duration", "start_time"):
                    record[key] = stats.get("weighted_mean")
            records.append(record)
    return pd.DataFrame(records)


def _scored(table_paths: Sequence[Path]) -> pd.DataFrame:
    rows, _ = read_tables(table_paths)
    frame = pd.DataFrame([r for r in rows if r["status"] == SCORED])
    return frame


def compare_systems(
    systems: Mapping[str, tuple[Path, Sequence[Path]]],
    dataset: str,
    devices: Sequence[str],
    reference_system: str,
    scored: Mapping[str, pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """Systems side by side: per (system, device, segment type) the official
    weighted means of the main keys and the segment count, and for each key
    the mean per-segment improvement over ``reference_system`` on the segments
    both scored (paired by segment key and type). ``scored`` is
    ``segment_scores(systems)`` where the caller has it already."""
    numbers = []
    for system, (out_dir, _) in systems.items():
        table = device_numbers(out_dir, dataset, devices)
        table.insert(0, "system", system)
        numbers.append(table)
    if not numbers:
        return pd.DataFrame()
    merged = pd.concat(numbers, ignore_index=True)
    keys = [k for k in MAIN_KEYS if k in merged.columns]
    merged = merged[["system", "device", "segment_type", "segments", *keys]]
    if reference_system not in systems:
        return merged
    scored = segment_scores(systems) if scored is None else scored
    gains = [_improvements(scored[system], scored[reference_system], keys).assign(system=system) for system in systems]
    columns = [f"{key}_improvement" for key in keys]
    gains_table = pd.concat(gains, ignore_index=True).reindex(columns=["system", "device", "segment_type", *columns])
    return merged.merge(gains_table, on=["system", "device", "segment_type"], how="left")


def _improvements(ours: pd.DataFrame, reference: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per (device, segment type): the mean of ours minus the reference over
    the segments both scored, a non-finite difference left out."""
    if ours.empty or reference.empty:
        return pd.DataFrame(columns=["device", "segment_type"])
    paired = ours.merge(
        reference[["key", "segment_type", *[k for k in keys if k in reference]]],
        on=["key", "segment_type"],
        suffixes=("", "_ref"),
    )
    gains = paired[["device", "segment_type"]].copy()
    for key in keys:
        if key in paired and f"{key}_ref" in paired:
            diff = pd.to_numeric(paired[key]) - pd.to_numeric(paired[f"{key}_ref"])
            gains[f"{key}_improvement"] = diff.where(np.isfinite(diff))
    return gains.groupby(["device", "segment_type"], as_index=False).mean()


def segment_scores(systems: Mapping[str, tuple[Path, Sequence[Path]]]) -> dict[str, pd.DataFrame]:
    """Every scored segment of each system (for the distributions)."""
    return {system: _scored(tables) for system, (_, tables) in systems.items()}


__all__ = [
    "INDIVIDUAL",
    "MAIN_KEYS",
    "SUMMED",
    "compare_systems",
    "device_numbers",
    "report_job",
    "score_job",
    "segment_scores",
]
