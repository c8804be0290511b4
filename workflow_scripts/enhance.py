"""Snakemake job: one (dataset, session, device) through the configured system."""

from enhancement.systems.enhance import SessionDevice, enhance_session_device
from enhancement.workflow.joblog import job_logging

job = snakemake  # noqa: F821 (snakemake is injected)
with job_logging(job.log[0]):
    w = job.wildcards
    enhance_session_device(
        SessionDevice(w.dataset, w.session, w.device),
        device_wav=job.input.device,
        raw_device_wav=job.params.raw_device,
        enrolment_wavs=dict(zip(job.params.pids, job.input.enrolments, strict=True)),
        outputs=dict(zip(job.params.pids, job.output, strict=True)),
        enhancement_name=job.params.system,
        args_yaml=job.input.args_yaml,
        threads=job.threads,
        plugin_folders=job.params.plugin_dirs,
    )
