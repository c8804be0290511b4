"""Upstream's per-key statistics (``compute_stats`` with the b168f08 weight fix)."""

from __future__ import annotations

import numpy as np

STAT_NAMES = ("weighted_mean", "mean", "std", "std_err", "count", "min", "max")


def key_stats(values: list[float], weights: list[float]) -> dict:
    """weighted_mean (by segment length), mean, population std, std_err, count, min, max."""
    n = len(values)
    if n == 0:
        return {
            "weighted_mean": np.nan,
            "mean": np.nan,
            "std": np.nan,
            "std_err": np.nan,
            "count": 0,
            "min": np.nan,
            "max": np.nan,
        }
    data = [float(v) for v in values]
    with np.errstate(invalid="ignore", over="ignore"):
        std = np.std(data) if n > 1 else np.nan
        return {
            "weighted_mean": float(np.average(data, weights=weights)),
            "mean": float(np.mean(data)),
            "std": float(std),
            "std_err": float(std / np.sqrt(n)) if n > 1 else np.nan,
            "count": n,
            "min": float(np.min(data)),
            "max": float(np.max(data)),
        }


def compute_stats(rows: list[dict], keys: list[str]) -> dict[str, dict]:
    """Statistics of every key over the rows that hold it (weights: ``duration``)."""
    out = {}
    for key in keys:
        have = [r for r in rows if key in r]
        out[key] = key_stats([r[key] for r in have], [r["duration"] for r in have])
    return out
