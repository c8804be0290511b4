"""The official CHiME-9 ECHI evaluation as a library: segment scoring, statistics, reports.

The workflow runs ``jobs.score_job`` per (session, device) and ``jobs.report_job``
per system and dataset; ``evaluate_folder`` runs the same jobs one after another
on a submission folder, writing the same tables and report files.

Nothing is imported until it is used: the light modules here (``inputs``,
``metric_names``, ``headline``) are read by Snakemake when it plans, which must
not pay for numpy, pandas and the metrics.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> the module of this package that defines it
_WHERE = {
    "NOT_COMPUTED": "metrics",
    "SegmentScorer": "metrics",
    "metric_keys": "metrics",
    "resolve_metrics": "metrics",
    "write_reports": "reports",
    "SEGMENT_TYPES": "scoring",
    "PartnerFiles": "scoring",
    "score_session_device": "scoring",
    "read_table": "tables",
    "write_table": "tables",
    "evaluate_folder": "folder",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
