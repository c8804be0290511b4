"""Snakemake job: the compared systems' scores side by side, as a table and a figure."""

from enhancement.joblog import job_logging
from enhancement.metrics import compare_systems, read_scores, write_csv
from enhancement.report import distribution_figure, write_html_table

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    scores = {system: read_scores([path]) for system, path in zip(job.params.systems, job.input, strict=True)}
    table = compare_systems(scores, job.params.reference_system)
    write_csv(table, job.output.table)
    dataset = job.wildcards.dataset
    if job.params.reference_system in scores:
        note = f"Improvement: mean per-segment difference from {job.params.reference_system}."
    else:
        note = f"No improvement columns: {job.params.reference_system} has not been run on {dataset}."
    write_html_table(table, job.output.html, f"Systems compared: {dataset}", note=note)
    distribution_figure(scores, job.output.figure, f"Per-segment scores, {dataset}")
