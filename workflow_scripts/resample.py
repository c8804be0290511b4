"""Snakemake job: resample one device or enrolment file (never imports torch)."""

from pathlib import Path

from enhancement.data.audio import MIN_ENROLMENT_SECONDS, resample_file
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
# an enrolment too short to enrol anyone is reported here, naming the raw file
# (participant/{dataset}/{pid}.wav), not by the enhance job reading the resampled one
is_enrolment = job.rule.startswith("resample_enrolment") or Path(job.input[0]).parent.parent.name == "participant"
with job_logging(job.log[0]):
    resample_file(
        job.input[0],
        job.output[0],
        int(job.wildcards.rate),
        expected_rate=job.params.expected_rate,
        expected_channels=job.params.expected_channels,
        min_seconds=MIN_ENROLMENT_SECONDS if is_enrolment else 0.0,
    )
