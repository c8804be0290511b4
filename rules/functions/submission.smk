# Input functions and helpers of rules/submission.smk.


def partner_output_of(wildcards):
    """The enhance output holding a target's audio (its partner number)."""
    pids = partners_of(wildcards)
    if wildcards.pid not in pids:
        raise WorkflowError(
            f"{wildcards.pid} is not a partner of device {wildcards.device} in session "
            f"{wildcards.dataset}/{wildcards.session} (partners: {', '.join(pids)})"
        )
    partner = pids.index(wildcards.pid) + 1
    return partner_output_path(
        SYSTEM, wildcards.dataset, wildcards.session, wildcards.device, partner
    )


def submission_files_of(wildcards):
    return [
        submission_path(SYSTEM, t.dataset, t.session, t.device, t.pid)
        for t in targets_in(wildcards.dataset)
    ]


def length_sources_of(wildcards):
    """The recording that sets each submission file's exact length, in the
    same order: its raw device audio, or, scoring a folder made elsewhere
    (where data_root may hold no raw audio), its 16 kHz reference."""
    sources = []
    for t in targets_in(wildcards.dataset):
        raw = raw_device_path(t.dataset, t.session, t.device)
        reference = reference_path(t.dataset, t.session, t.device, t.pid)
        use_reference = (
            SCORING_ONLY and not Path(raw).is_file() and Path(reference).is_file()
        )
        sources.append(reference if use_reference else raw)
    return sources


def submission_folder_of(wildcards):
    """The folder that must hold the submission's files and no other .wav."""
    return str(Path(submission_path(SYSTEM, wildcards.dataset, "s", "d", "p")).parent)


def validation_signature(wildcards):
    """The files a validation reads that exist when the run is planned: the
    recordings (or references) that set each file's length, and the files of a
    submission made elsewhere (submission_dir)."""
    return signatures_of(
        dict.fromkeys(length_sources_of(wildcards))
    ) + submission_signatures(SYSTEM, submission_files_of(wildcards))


# ---- the submission as made and validated (enhancement/data/outputs.py) -----------

from enhancement.data.outputs import SubmissionChanged, check_submission_unchanged


def validated_record_path(dataset):
    """The record of the files the dataset's validation saw (size, time):
    beside the system's outputs, not in the folder handed in."""
    return f"partners/{SYSTEM}/{dataset}/submission.validated.json"


def validated_record_of(wildcards):
    """The validation record, for the rules; none scoring a folder made elsewhere."""
    return "" if SCORING_ONLY else validated_record_path(wildcards.dataset)


def refuse_changed_submission():
    """At plan time, stat calls only: stop while a submission file differs
    from what the workflow made and validated (Snakemake, going by mtimes,
    could take an older-dated replacement for up to date)."""
    validated = [
        (
            validated_record_path(dataset),
            [
                submission_path(SYSTEM, t.dataset, t.session, t.device, t.pid)
                for t in targets_in(dataset)
            ],
        )
        for dataset in config["datasets"]
    ]
    try:
        check_submission_unchanged(validated, SYSTEM)
    except SubmissionChanged as exc:
        message = str(exc)
        for _, files in validated:  # named from the launch folder
            for path in files:
                message = message.replace(f"  {path} (", f"  {as_given(path)} (")
        raise WorkflowError(message) from None
