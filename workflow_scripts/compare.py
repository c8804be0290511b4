"""Snakemake job: the compared systems' official numbers side by side, as a table and a figure."""

from pathlib import Path

from enhancement.data.atomic_write import write_text_atomically
from enhancement.evaluation.jobs import MAIN_KEYS, compare_systems, segment_scores
from enhancement.report import distribution_figure, write_html_table
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    dataset = job.wildcards.dataset
    systems = {s: (Path(summary).parent, job.params.tables[s])
               for s, summary in zip(job.params.systems, job.input, strict=True)}
    scored = segment_scores(systems)
    table = compare_systems(systems, dataset, job.params.devices, job.params.reference_system, scored)
    write_text_atomically(job.output.table, table.to_csv(index=False))
    reference = job.params.reference_system
    if reference in systems:
        note = (f"weighted_mean per device and segment type; *_improvement: mean per-segment difference from "
                f"{reference} on the segments both scored.")
    else:
        note = f"No improvement columns: {reference} has not been run on {dataset}."
    write_html_table(table, job.output.html, f"Systems compared: {dataset}", note=note)
    scores = {s: t[t.segment_type == "individual"] if len(t) else t for s, t in scored.items()}
    keys = [k for k in MAIN_KEYS if k in table.columns][:4]
    distribution_figure(scores, job.output.figure, f"Per-segment scores (individual), {dataset}", keys)
