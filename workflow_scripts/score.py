"""Snakemake job: the official scores of one session-device, its partners' individual segments and the summed ones."""

from enhancement.data.manifest import Target
from enhancement.evaluation.jobs import score_job
from enhancement.evaluation.scoring import PartnerFiles
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    # a reference or segment list missing from data_root is no input of the rule (None: not scored)
    partners = [
        PartnerFiles(
            Target(w.dataset, w.session, w.device, pid),
            submission,
            job.input.get(f"reference_{pid}"),
            job.input.get(f"segments_{pid}"),
        )
        for pid, submission in zip(job.params.partners, job.input.submissions, strict=True)
    ]
    score_job(partners, job.output.individual, job.output.summed, job.params.metrics, job.params.earliest_start_s)
