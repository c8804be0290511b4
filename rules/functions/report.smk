# Input functions and helpers of rules/report.smk.

from enhancement.data.manifest import spread


def report_outputs():
    """The validation summary as a table, and for up to `report_spectrograms`
    targets per dataset (spread over sessions and devices; a figure per target
    would be a matplotlib job per file, and a report no one reads) a
    spectrogram figure and a page of audio players."""
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


def listen_signature(wildcards):
    """The reference, segment list and (made elsewhere) submission a page plays."""
    return signatures_of(
        reference_if_scored(wildcards) + segments_if_scored(wildcards)
    ) + submission_signatures(wildcards.system, [submission_of(wildcards)])
