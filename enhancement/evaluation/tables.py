"""Per-job segment tables: every segment of a job, scored or skipped, at full precision.

A table is a CSV with fixed leading columns (``TABLE_COLUMNS``) then the metric
keys of the set. Floats are written with ``repr`` so they read back bit-exact;
NaN and infinities as ``nan``/``inf``. Written to a temporary name and renamed.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from pathlib import Path

TABLE_COLUMNS = ("key", "session", "device", "pid", "segment_type", "index", "start", "end",
                 "status", "reason", "detail")
SCORED = "scored"
SKIPPED = "skipped"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    return "" if value is None else str(value)


def write_table(rows: list[dict], metric_keys: list[str], path: Path) -> Path:
    """Write rows atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = list(TABLE_COLUMNS) + list(metric_keys)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(columns)
            for row in rows:
                w.writerow([_fmt(row.get(c)) for c in columns])
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_table(path: Path) -> tuple[list[dict], list[str]]:
    """Rows (metric values as floats, absent as missing keys) and the metric keys."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        fields = reader.fieldnames or []
        missing = [c for c in TABLE_COLUMNS if c not in fields]
        if missing:
            raise ValueError(f"{path}: not a segment table (missing columns {missing})")
        keys = [c for c in fields if c not in TABLE_COLUMNS]
        rows = []
        for raw in reader:
            row: dict = {c: raw[c] for c in TABLE_COLUMNS}
            for c in ("index", "start", "end"):
                row[c] = int(row[c])
            for k in keys:
                if raw[k] != "":
                    row[k] = float(raw[k])
            rows.append(row)
    return rows, keys
