"""Snakemake job: the official report files of a system on a dataset, and their device-level page."""

from pathlib import Path

from enhancement.evaluation.jobs import device_numbers, report_job
from enhancement.report.pages import official_page
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    out_dir = Path(job.output.summary).parent
    report_job(job.input, w.dataset, out_dir, job.params.devices, job.params.earliest_start_s, job.params.metrics)
    numbers = device_numbers(out_dir, w.dataset, job.params.devices)
    official_page(
        numbers,
        job.output.html,
        f"Official scores: {w.system}, {w.dataset}",
        note="The weighted mean (weights: segment lengths) of each key over the segments kept, per "
        "device and segment type, as the challenge's evaluation reports them; the segments row: "
        "how many were kept.",
    )
