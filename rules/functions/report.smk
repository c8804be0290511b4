# Input functions and helpers of rules/report.smk.

from enhancement.data.manifest import spread


def report_outputs():
    """The validation summary as a table, and for up to `report_spectrograms`
    targets per dataset (spread over sessions and devices; a figure per target
    would be a matplotlib job per file, and a report no one reads) a
    spectrogram figure and a page of audio players (the same excerpts of the
    input, the reference and every compared system)."""
    tables = [report_path(SYSTEM, d, "validation.html") for d in config["datasets"]]
    shown = [
        (t.dataset, f"{t.session}.{t.device}.{t.pid}")
        for d in config["datasets"]
        for t in spread(targets_in(d), config["report_spectrograms"])
    ]
    figures = [report_path(SYSTEM, d, f"spectrograms/{stem}.png") for d, stem in shown]
    players = [report_path(SYSTEM, d, f"listen/{stem}.html") for d, stem in shown]
    return tables + figures + players


def segments_if_scored(wildcards):
    """A target's segment list, where its dataset is scored and the list exists (else none)."""
    w = wildcards
    if w.dataset not in EVALUATED:
        return []
    path = segments_path(w.dataset, w.session, w.device, w.pid)
    return present_scoring_inputs([path], f"{w.session}.{w.device}.{w.pid}")


def reference_if_scored(wildcards):
    """A target's clean reference, where its dataset is scored and it exists (else none)."""
    w = wildcards
    if w.dataset not in EVALUATED:
        return []
    path = reference_path(w.dataset, w.session, w.device, w.pid)
    return present_scoring_inputs([path], f"{w.session}.{w.device}.{w.pid}")


def spectrogram_signature(wildcards):
    """The raw recording, reference and (made elsewhere) submission a figure shows."""
    w = wildcards
    return signatures_of(
        [raw_device_path(w.dataset, w.session, w.device)]
        + reference_if_scored(wildcards)
    ) + submission_signatures(w.system, [submission_of(wildcards)])


def listened_systems_of(wildcards):
    """The systems a page of players plays, in the comparison's order (the
    reference first): every compared system of a scored dataset, only the
    page's own where the dataset is not scored. Each with its submission file,
    or None where that is not in the work folder (a folder scored with
    run_evaluation.py keeps its files where it was made): left out, named."""
    w = wildcards
    systems = systems_compared(w.dataset) if w.dataset in EVALUATED else [w.system]
    listed = []
    for system in systems:
        path = submission_path(system, w.dataset, w.session, w.device, w.pid)
        listed.append(
            [system, path if system == w.system or Path(path).is_file() else None]
        )
    return listed


def listen_reference_of(wildcards):
    """The system the excerpts are chosen against: the comparison's reference."""
    w = wildcards
    return systems_compared(w.dataset)[0] if w.dataset in EVALUATED else w.system


def individual_table_of(system, wildcards):
    """A system's scores of the target's individual segments (its session and
    device), where the dataset is scored and the table exists or can be made."""
    w = wildcards
    if w.dataset not in EVALUATED:
        return []
    path = score_table_path(system, w.dataset, "individual", w.session, w.device)
    can_be_made = system == w.system or finished_submission(system, w.dataset)
    return [path] if can_be_made or Path(path).is_file() else []


def listen_inputs_of(wildcards):
    """What a page of players reads, by name: the device recording, the
    reference and segment list (where scored), the page's system's scores and
    the reference system's (to choose the excerpts), and the compared systems'
    files."""
    w = wildcards
    reference_system = listen_reference_of(wildcards)
    return {
        "device": raw_device_path(w.dataset, w.session, w.device),
        "reference": reference_if_scored(wildcards),
        "segments": segments_if_scored(wildcards),
        "table": individual_table_of(w.system, wildcards),
        "reference_table": (
            individual_table_of(reference_system, wildcards)
            if reference_system != w.system
            else []
        ),
        "compared": [path for _, path in listened_systems_of(wildcards) if path],
    }


def listen_signature(wildcards):
    """The recording, reference, segment list and (made elsewhere) submission a page plays."""
    w = wildcards
    return signatures_of(
        [raw_device_path(w.dataset, w.session, w.device)]
        + reference_if_scored(wildcards)
        + segments_if_scored(wildcards)
    ) + submission_signatures(w.system, [submission_of(wildcards)])
