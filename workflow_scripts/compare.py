"""Snakemake job: the compared systems' official numbers side by side: the table, its
page (keys as rows), the landing page's headline, and the distributions figure."""

from pathlib import Path

from enhancement.data.atomic_write import write_text_atomically
from enhancement.evaluation.jobs import MAIN_KEYS, compare_systems, segment_scores
from enhancement.report.figures import distribution_figure
from enhancement.report.pages import comparison_page, write_headline
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    dataset = job.wildcards.dataset
    systems = {
        s: (Path(summary).parent, job.params.tables[s])
        for s, summary in zip(job.params.systems, job.input, strict=True)
    }
    scored = segment_scores(systems)
    table = compare_systems(systems, dataset, job.params.devices, job.params.reference_system, scored)
    write_text_atomically(job.output.table, table.to_csv(index=False))
    reference = job.params.reference_system
    if reference in systems:
        note = (
            f"The official weighted mean of each key per device and segment type (the segments row: how many "
            f"were kept); under each value of a system, its mean per-segment improvement over {reference} on "
            f"the segments both scored (green better, red worse, grey the same at this precision)."
        )
    else:
        note = f"No improvements: {reference} has not been run on {dataset}."
    comparison_page(table, job.output.html, f"Systems compared: {dataset}", note=note)
    write_headline(job.output.table, job.output.headline, dataset)
    scores = {s: t[t.segment_type == "individual"] if len(t) else t for s, t in scored.items()}
    keys = [k for k in MAIN_KEYS if k in table.columns][:4]
    distribution_figure(scores, job.output.figure, f"Per-segment scores (individual), {dataset}", keys)
