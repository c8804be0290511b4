"""Snakemake job: the official scores of one session-device's summed segments."""

from enhancement.evaluation.jobs import score_summed_job
from enhancement.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    score_summed_job(job.params.data_root, w.dataset, w.session, w.device, job.params.partners,
                     job.input.submissions, job.output[0], job.params.metrics, job.params.earliest_start_s)
