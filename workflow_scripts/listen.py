"""Snakemake job: audio players for a target's output and reference, for the report."""

from enhancement.data.challenge import OUTPUT_RATE
from enhancement.evaluation.inputs import unusable_reason
from enhancement.evaluation.segments import read_segments
from enhancement.report import listening_page
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    clips = [(f"{w.system} output", job.input.submission)]
    start_s = 0.0
    # [] where the dataset is not scored or the reference is missing; an empty one is not scored either
    if job.input.reference and not unusable_reason(job.input.reference[0]):
        clips.append(("reference (clean speech at the device)", job.input.reference[0]))
    if job.input.segments:
        earliest = job.params.earliest_start_s * OUTPUT_RATE
        starts = [s.start for s in read_segments(job.input.segments[0]) if s.start >= earliest]
        start_s = (min(starts) / OUTPUT_RATE) if starts else 0.0
    listening_page(clips, job.output[0], f"{w.session} {w.device}, partner {w.pid}: {w.system}", start_s)
