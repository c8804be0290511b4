"""Snakemake job: a submission's validation summary as a table for the report."""

import pandas as pd

from enhancement.report.figures import write_html_table
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    summary = pd.read_csv(job.input[0], dtype={"status": str})
    write_html_table(
        summary,
        job.output[0],
        f"Validation: {job.wildcards.system}, {job.wildcards.dataset}",
        note="Every file of the submission: 16 kHz, PCM_16, mono, exact length.",
        flagged=summary.status != "ok",
    )
