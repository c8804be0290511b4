"""Score a submission folder (``evaluate_folder``): the workflow's scoring jobs one after another."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..data.challenge import DEVICES, REFERENCE, SEGMENTS, SUBMISSION_FILE
from ..data.manifest import manifest_path, read_manifest, targets_of
from .inputs import SCORE_TABLE
from .jobs import report_job, score_job
from .scoring import SEGMENT_TYPES, PartnerFiles


def evaluate_folder(
    data_root: Path,
    submission_dir: Path,
    dataset: str,
    out_dir: Path,
    metrics: str | Sequence[str] = "full",
    earliest_start_s: float = 30.0,
    devices: Sequence[str] = DEVICES,
) -> dict:
    """Score a submission folder (``{session}.{device}.{pid}.wav``) and write every report.

    The workflow's jobs, one after another: a scoring job per (session, device)
    of the manifest, its tables at ``out_dir/tables/`` as the workflow writes
    them, then the report job into ``out_dir``. A partner whose submission file,
    reference or segment list is missing or empty is left out with a warning
    naming the file, and so are its session-device's summed segments.
    """
    data_root, submission_dir, out_dir = Path(data_root), Path(submission_dir), Path(out_dir)
    sessions = read_manifest(manifest_path(data_root, dataset), dataset)
    partners: dict[tuple[str, str], list[PartnerFiles]] = {}
    for t in targets_of(sessions, devices):
        submission = submission_dir / SUBMISSION_FILE.format(session=t.session, device=t.device, pid=t.pid)
        partners.setdefault((t.session, t.device), []).append(
            PartnerFiles(t, submission, t.in_data_root(data_root, REFERENCE), t.in_data_root(data_root, SEGMENTS))
        )
    tables = []
    for (session, device), files in partners.items():
        individual, summed = (
            out_dir / SCORE_TABLE.format(segment_type=stype, session=session, device=device) for stype in SEGMENT_TYPES
        )
        score_job(files, individual, summed, metrics, earliest_start_s)
        tables += [individual, summed]
    return report_job(tables, dataset, out_dir, devices, earliest_start_s, metrics)
