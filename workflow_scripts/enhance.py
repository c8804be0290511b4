"""Snakemake job: one (dataset, session, device) through the configured system."""

from pathlib import Path

from enhancement.systems.enhance import SessionDevice, enhance_session_device
from enhancement.workflow.joblog import job_logging
from enhancement.workflow.portable import located

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    workflow_dir = Path(job.scriptdir).parent
    enhance_session_device(
        SessionDevice(w.dataset, w.session, w.device),
        device_wav=job.input.device,
        raw_device_wav=job.params.raw_device,
        enrolment_wavs=dict(zip(job.params.pids, job.input.enrolments, strict=True)),
        outputs=dict(zip(job.params.pids, job.output, strict=True)),
        enhancement_name=job.params.system,
        args_yaml=located(job.params.args_yaml, workflow_dir),
        threads=job.threads,
        plugin_folders=[located(d, workflow_dir) for d in job.params.plugin_dirs],
        planned_args=job.params.args,
    )
