"""Snakemake job: the official scores of one submission file's individual segments."""

from enhancement.evaluation.jobs import score_file_job
from enhancement.joblog import job_logging
from enhancement.manifest import Target

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    score_file_job(job.params.data_root, w.dataset, Target(w.dataset, w.session, w.device, w.pid), job.input.submission,
                   job.output[0], job.params.metrics, job.params.earliest_start_s)
