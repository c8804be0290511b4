"""Snakemake job: resample one device or enrolment file (never imports torch)."""

from enhancement.audio import resample_file
from enhancement.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    resample_file(
        job.input[0],
        job.output[0],
        int(job.wildcards.rate),
        expected_rate=job.params.expected_rate,
        expected_channels=job.params.expected_channels,
    )
