"""Paths in job parameters that survive a moved or re-cloned checkout.

Snakemake re-runs a job whose parameters or set of inputs changed. An absolute path
into the workflow's own folder (an args yaml in ``enhance_args/``, the plugins in
``enhancement_plugins/``) would make the same workflow, cloned into another folder,
re-run every enhance job (hours for the baseline) for files whose content is the
same. Such paths are recorded relative to the workflow folder and made absolute
again where the job runs; paths elsewhere stay absolute.
"""

from __future__ import annotations

import os
from pathlib import Path


def portable(path: Path | str, workflow_dir: Path | str) -> str:
    """``path`` relative to ``workflow_dir`` if it lies inside it, else absolute
    (both with symbolic links resolved: the planner resolves the args yaml's path,
    and a checkout reached through a link is still the workflow's folder)."""
    path, workflow_dir = Path(os.path.realpath(path)), Path(os.path.realpath(workflow_dir))
    return path.relative_to(workflow_dir).as_posix() if path.is_relative_to(workflow_dir) else str(path)


def located(path: Path | str, workflow_dir: Path | str) -> Path:
    """A path recorded by :func:`portable`, absolute again."""
    return Path(path) if Path(path).is_absolute() else Path(os.path.abspath(workflow_dir)) / path
