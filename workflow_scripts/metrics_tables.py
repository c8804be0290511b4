"""Snakemake job: gather a submission's per-file scores into its metrics tables."""

from enhancement.joblog import job_logging
from enhancement.metrics import write_metrics_tables
from enhancement.report import write_html_table

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    name = f"{job.wildcards.system}, {job.wildcards.dataset}"
    _, by_file, by_device = write_metrics_tables(
        job.input.scores, job.output.segments, job.output.by_file, job.output.by_device
    )
    write_html_table(by_device, job.output.by_device_html, f"Scores per device: {name}",
                     note="Means over the scored segments; 'all' is every device together.")
    write_html_table(by_file, job.output.by_file_html, f"Scores per file: {name}",
                     note="Means over each file's scored segments; highlighted: a file with no segments "
                          "or a segment not scored (its reason is in metrics.csv).",
                     flagged=(by_file.scored < by_file.segments) | (by_file.segments == 0))
