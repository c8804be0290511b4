"""Snakemake job: players for a target's input, reference and every compared system, on the same excerpts."""

from enhancement.data.challenge import OUTPUT_RATE
from enhancement.evaluation.inputs import unusable_reason
from enhancement.evaluation.segments import read_segments
from enhancement.report.listening import EXCERPT_SECONDS, Clip, choose_excerpts, listening_page
from enhancement.workflow.joblog import job_logging

ELSEWHERE = "its files are not in this work folder: a folder scored with run_evaluation.py keeps them where it was made"

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w, inputs = job.wildcards, job.input
    reference_system = job.params.reference_system
    # [] where the dataset is not scored or the file is missing; an empty reference is not scored either
    reference = inputs.reference[0] if inputs.reference and not unusable_reason(inputs.reference[0]) else None
    earliest = job.params.earliest_start_s * OUTPUT_RATE
    starts = (
        [(s.start, s.end) for s in read_segments(inputs.segments[0]) if s.start >= earliest] if inputs.segments else []
    )
    excerpts, how = choose_excerpts(
        inputs.table[0] if inputs.table else None,
        inputs.reference_table[0] if inputs.reference_table else None,
        w.pid,
        w.system,
        reference_system,
        starts,
    )
    clips = [Clip("input: the device's channel 0", inputs.device)]
    if reference:
        clips.append(Clip("reference: the partner's clean speech at the device", reference))
    for system, path in job.params.compared:
        mark = " (reference system)" if system == reference_system and len(job.params.compared) > 1 else ""
        clips.append(Clip(f"{system}{mark}", path, "" if path else ELSEWHERE))
    note = (
        f"{how}. For each, the same stretch (at most {EXCERPT_SECONDS:g} s, at 16 kHz) of the input, the "
        f"reference and every compared system's output."
    )
    listening_page(clips, excerpts, job.output[0], f"{w.session} {w.device}, partner {w.pid}: {w.system}", note)
