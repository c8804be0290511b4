# Input functions and helpers of rules/submission.smk.

from enhancement.submission import place_submission_file


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


def raw_recordings_of(wildcards):
    """Raw device file of each submission file of a dataset, in the same order
    (their lengths set the submission's)."""
    return [
        raw_device_path(t.dataset, t.session, t.device)
        for t in targets_in(wildcards.dataset)
    ]
