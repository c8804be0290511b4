"""Snakemake job: validate one dataset's submission and write its summary."""

from enhancement.data.submission import validate_submission_against_raw
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    validate_submission_against_raw(
        job.input, job.params.length_sources, job.output[0], job.params.folder, job.params.record or None
    )
