"""Snakemake job: score one submission file against its reference, segment by segment."""

from enhancement.joblog import job_logging
from enhancement.metrics import evaluate_file, write_scores

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    context = {key: job.wildcards[key] for key in ("system", "dataset", "session", "device", "pid")}
    rows = evaluate_file(job.input.submission, job.input.reference, job.input.segments, context)
    write_scores(rows, job.output[0])
