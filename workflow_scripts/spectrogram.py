"""Snakemake job: spectrograms of a target's input (channel 0), output and reference."""

from enhancement.evaluation.inputs import unusable_reason
from enhancement.report.figures import spectrogram_figure
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    panels = [("input, channel 0", job.input.device, 0), (f"{w.system} output", job.input.submission, 0)]
    # [] where the dataset is not scored or the reference is missing; an empty one is not scored either
    if job.input.reference and not unusable_reason(job.input.reference[0]):
        panels.append(("reference", job.input.reference[0], 0))
    spectrogram_figure(panels, job.output[0], f"{w.session} {w.device}, partner {w.pid}: {w.system}")
