"""The official report files, from segment tables, plus our skipped-segment accounts.

Per (dataset, device, segment type), as upstream's ``report``:
``report.{dataset}.{device}.{segment_type}.{session|_}.{pid|_}.json`` (statistics
of every key of the rows, ``duration`` and ``start_time`` included, Python's
``json`` with ``NaN``/``Infinity``) and a ``.csv`` beside it holding the kept rows.
Session and partner files exist where segments were kept, as upstream; the
device file always exists (count 0 when nothing was kept, where upstream crashes).
Added: ``segments.{dataset}.{device}.{segment_type}.csv`` (every segment, kept
or skipped with its reason) and ``summary.{dataset}.json`` (kept/skipped counts
per level and reason, metric set, metrics not computed).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections import Counter
from pathlib import Path

from ..data.atomic_write import write_text_atomically
from ..data.challenge import OUTPUT_RATE
from .metrics import NOT_COMPUTED
from .segments import before_start_reason, reasons, seconds_text
from .stats import compute_stats
from .tables import SCORED, SKIPPED, TABLE_COLUMNS, _fmt

log = logging.getLogger(__name__)


def report_name(dataset: str, device: str, segment_type: str, session: str = "_", pid: str = "_") -> str:
    return f"report.{dataset}.{device}.{segment_type}.{session}.{pid}.json"


def _kept_row(row: dict, keys: list[str]) -> dict:
    out = {"key": row["key"]}
    out.update({k: row[k] for k in keys if k in row})
    out["duration"] = row["end"] - row["start"]
    out["start_time"] = row["start"]
    return out


def _write_level(out_dir: Path, name: str, kept: list[dict], keys: list[str]) -> None:
    stat_keys = list(keys) + ["duration", "start_time"]
    if kept:  # upstream: the keys of the first row
        stat_keys = [k for k in kept[0] if k != "key"]
    stats = compute_stats(kept, stat_keys)
    write_text_atomically(out_dir / name, json.dumps(stats, indent=4))
    buf = io.StringIO()
    columns = ["key"] + stat_keys
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in kept:
        w.writerow([_fmt(r.get(c)) if isinstance(r.get(c), float) else r.get(c, "") for c in columns])
    write_text_atomically(out_dir / (name[: -len(".json")] + ".csv"), buf.getvalue())


def write_reports(
    rows: list[dict],
    keys: list[str],
    dataset: str,
    out_dir: Path,
    devices: tuple[str, ...] = ("aria", "ha"),
    segment_types: tuple[str, ...] = ("individual", "summed"),
    earliest_start_s: float = 30.0,
    metric_set: object = None,
) -> dict:
    """Write every report file for the rows of a dataset; returns the summary dict.

    Scored rows starting before ``earliest_start_s`` are moved to the skipped ones
    (reason ``before_30s`` at 30 s, ``before_{N}s`` at N), so tables scored with the
    rule off can be reported with it on. An earliest start past every segment of a
    device and segment type is an error (nothing would be scored); a level with no
    segment scored is a warning, its count 0 and NaN statistics being no score.
    """
    out_dir = Path(out_dir)
    earliest = round(earliest_start_s * OUTPUT_RATE)
    before_start = before_start_reason(earliest_start_s)
    check_earliest_start(rows, dataset, devices, segment_types, earliest_start_s)
    rows = [dict(r) for r in rows]
    for r in rows:
        if r["status"] == SCORED and r["start"] < earliest:
            r.update(status=SKIPPED, reason=before_start, detail=f"start {r['start']} < earliest start {earliest}")
    codes = reasons(earliest_start_s)
    summary: dict = {
        "dataset": dataset,
        "earliest_start_s": earliest_start_s,
        "metric_set": metric_set,
        "metric_keys": list(keys),
        "not_computed": list(NOT_COMPUTED),
        "levels": {},
    }
    for device in devices:
        for stype in segment_types:
            sel = sorted(
                (r for r in rows if r["device"] == device and r["segment_type"] == stype), key=lambda r: r["key"]
            )
            kept = [_kept_row(r, keys) for r in sel if r["status"] == SCORED]
            if not kept:
                why = Counter(r["reason"] for r in sel)
                skipped = (
                    f"{len(sel)} segment(s) skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(why.items()))
                    if sel
                    else "no file of it was scored"
                )
                log.warning(
                    "%s %s (%s): no segment was scored (%s); its report files hold count 0 and NaN "
                    "statistics, which are no score",
                    device,
                    stype,
                    dataset,
                    skipped,
                )
            _write_level(out_dir, report_name(dataset, device, stype), kept, keys)
            levels = {"_._": sel}
            for session in sorted({r["session"] for r in sel}):
                srows = [r for r in sel if r["session"] == session]
                levels[f"{session}._"] = srows
                skept = [_kept_row(r, keys) for r in srows if r["status"] == SCORED]
                if skept:
                    _write_level(out_dir, report_name(dataset, device, stype, session), skept, keys)
                for pid in sorted({r["pid"] for r in srows}):
                    prows = [r for r in srows if r["pid"] == pid]
                    levels[f"{session}.{pid}"] = prows
                    pkept = [_kept_row(r, keys) for r in prows if r["status"] == SCORED]
                    if pkept:
                        _write_level(out_dir, report_name(dataset, device, stype, session, pid), pkept, keys)
            for level, lrows in levels.items():
                counts = Counter(r["reason"] for r in lrows if r["status"] == SKIPPED)
                summary["levels"][f"{device}.{stype}.{level}"] = {
                    "segments": len(lrows),
                    "kept": sum(r["status"] == SCORED for r in lrows),
                    "skipped": {
                        reason: counts.get(reason, 0) for reason in (*codes, *sorted(set(counts) - set(codes)))
                    },
                }
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            columns = list(TABLE_COLUMNS) + list(keys)
            w.writerow(columns)
            for r in sel:
                w.writerow([_fmt(r.get(c)) for c in columns])
            write_text_atomically(out_dir / f"segments.{dataset}.{device}.{stype}.csv", buf.getvalue())
    write_text_atomically(out_dir / f"summary.{dataset}.json", json.dumps(summary, indent=2))
    return summary


def check_earliest_start(
    rows: list[dict], dataset: str, devices: tuple[str, ...], segment_types: tuple[str, ...], earliest_start_s: float
) -> None:
    """A ValueError naming ``evaluation_earliest_start_s`` when it is past every
    segment of a device and segment type: its report would hold only NaN."""
    earliest = round(earliest_start_s * OUTPUT_RATE)
    for device in devices:
        for stype in segment_types:
            starts = [r["start"] for r in rows if r["device"] == device and r["segment_type"] == stype]
            if starts and max(starts) < earliest:
                raise ValueError(
                    f"evaluation_earliest_start_s is {seconds_text(earliest_start_s)} s, past every "
                    f"segment of {device} {stype} in {dataset} ({len(starts)} segment(s), the last starting at "
                    f"{max(starts) / OUTPUT_RATE:.3f} s): nothing would be scored. Set it below that (30 is the "
                    "official rule, 0 turns it off)"
                )
