"""Snakemake job: resample one device or enrolment file (never imports torch)."""

from enhancement.audio import resample_file
from enhancement.joblog import job_logging

with job_logging(snakemake.log[0]):  # noqa: F821 (snakemake is injected)
    resample_file(snakemake.input[0], snakemake.output[0], int(snakemake.wildcards.rate))  # noqa: F821
