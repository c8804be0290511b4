"""Per-job segment tables: every segment of a job, scored or skipped, at full precision.

A table is a CSV with fixed leading columns (``TABLE_COLUMNS``) then the metric
keys of the set. Floats are written with ``repr`` so they read back bit-exact;
NaN and infinities as ``nan``/``inf``. Written whole or not at all (``atomic_output``).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ..data.atomic_write import atomic_output

TABLE_COLUMNS = (
    "key",
    "session",
    "device",
    "pid",
    "segment_type",
    "index",
    "start",
    "end",
    "status",
    "reason",
    "detail",
)
SCORED = "scored"
SKIPPED = "skipped"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value)
    return "" if value is None else str(value)


def write_table(rows: list[dict], metric_keys: list[str], path: Path) -> Path:
    """Write rows, every column of ``TABLE_COLUMNS`` then the metric keys, atomically."""
    path = Path(path)
    columns = list(TABLE_COLUMNS) + list(metric_keys)
    with atomic_output(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for row in rows:
            w.writerow([_fmt(row.get(c)) for c in columns])
    return path


def read_table(path: Path) -> tuple[list[dict], list[str]]:
    """Rows (metric values as floats, absent as missing keys) and the metric keys."""
    with open(path, encoding="utf-8", newline="") as f:
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
