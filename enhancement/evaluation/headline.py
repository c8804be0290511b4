"""The few numbers a run ends with: the challenge's main metrics per device and
segment type, for the configured system and, beside them, its improvement over
the comparison's reference system.

Read from the comparison table (``evaluation/comparison.<dataset>.csv``) with
the csv module: the end of a run pays for no pandas import.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from pathlib import Path

# The main metrics a run's last lines show, where they were computed (``quick``
# has no signal metrics or DNSMOS), in this order.
HEADLINE_KEYS = ("si_snr", "pesq", "stoi", "pysepm_fwsegsnr", "pysepm_c_ovl", "dns_overall")
# Keys where a smaller value is the better one; for every other key, larger is better.
LOWER_IS_BETTER = frozenset({"pysepm_llr", "pysepm_wss", "pysepm_cd"})


def higher_is_better(key: str) -> bool:
    return key.removesuffix("_improvement") not in LOWER_IS_BETTER


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return math.nan


def _cell(value: float, gain: float | None) -> str:
    shown = "-" if math.isnan(value) else f"{value:.3f}"
    if gain is None or math.isnan(gain):
        return shown
    return f"{shown} ({gain:+.3f})"


def headline_rows(comparison: Path | str, system: str) -> tuple[list[str], list[dict], str | None]:
    """The headline keys present in a comparison table, the configured
    system's rows (device, segment type, segment count, and per key its
    weighted mean and improvement, None where the table has none), and the
    reference system (the table's first; None without improvement columns)."""
    with open(comparison, newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys() if rows else ()
    reference = rows[0]["system"] if any(c.endswith("_improvement") for c in columns) else None
    keys = [k for k in HEADLINE_KEYS if k in columns]
    picked = []
    for row in rows:
        if row["system"] != system:
            continue
        gains = {k: _number(row[f"{k}_improvement"]) if f"{k}_improvement" in row else None for k in keys}
        picked.append(
            {
                "device": row["device"],
                "segment_type": row["segment_type"],
                "segments": row["segments"],
                "values": {k: _number(row[k]) for k in keys},
                "improvements": gains,
            }
        )
    return keys, picked, reference


def headline_text(comparison: Path | str, system: str, dataset: str) -> list[str]:
    """Lines for the terminal: one header, one line per device and segment type."""
    keys, rows, reference = headline_rows(comparison, system)
    if not rows:
        return [f"{dataset}: {system} has no scores in {comparison}"]
    versus = (
        f"; in brackets the mean improvement over {reference} on the same segments"
        if reference and reference != system
        else ""
    )
    lower = [k for k in keys if not higher_is_better(k)]
    direction = "higher is better" + (f" except {', '.join(lower)}" if lower else "")
    lines = [f"{dataset}: {system}, official weighted means{versus} ({direction})"]
    widths = [max(len(k), 18 if versus else 7) for k in keys]
    lines.append(
        "  "
        + f"{'device':<8}{'type':<12}{'segments':>8}  "
        + "  ".join(f"{k:>{w}}" for k, w in zip(keys, widths, strict=True))
    )
    for row in rows:
        cells = [_cell(row["values"][k], row["improvements"][k] if versus else None) for k in keys]
        lines.append(
            "  "
            + f"{row['device']:<8}{row['segment_type']:<12}{row['segments']:>8}  "
            + "  ".join(f"{c:>{w}}" for c, w in zip(cells, widths, strict=True))
        )
    return lines


def run_summary(comparisons: Sequence[tuple[str, Path]], system: str, report_dirs: Sequence[Path]) -> list[str]:
    """The end of a run: each scored dataset's headline (``(dataset,
    comparison table)``), then where the files are."""
    lines: list[str] = []
    for dataset, table in comparisons:
        if Path(table).is_file():
            lines += headline_text(table, system, dataset)
    if not lines:
        return []
    lines += [f"official report files: {d}" for d in report_dirs]
    lines += [f"comparison of systems: {table}" for _, table in comparisons]
    lines.append("the report (tables, figures, audio): the same command with --report report.html")
    return lines
