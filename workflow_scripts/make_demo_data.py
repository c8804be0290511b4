"""Snakemake job: write the synthetic demo dataset."""

from pathlib import Path

from enhancement.data.demo import write_demo_dataset
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    # The first output is the manifest: <root>/metadata/sessions.dev.csv
    write_demo_dataset(Path(job.output[0]).parent.parent)
