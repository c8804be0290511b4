# Input functions and helpers of rules/report.smk.

from enhancement.manifest import spread


def report_outputs():
    """The validation summary as a table, and spectrogram figures of up to
    `report_spectrograms` targets per dataset (spread over sessions and devices;
    a figure per target would be a matplotlib job per file, and a report no one reads).
    """
    tables = [report_path(SYSTEM, d, "validation.html") for d in config["datasets"]]
    figures = [
        report_path(
            SYSTEM, t.dataset, f"spectrograms/{t.session}.{t.device}.{t.pid}.png"
        )
        for d in config["datasets"]
        for t in spread(targets_in(d), config["report_spectrograms"])
    ]
    return tables + figures


def reference_if_scored(wildcards):
    """The clean reference of a target, where its dataset is scored (else none)."""
    if wildcards.dataset not in EVALUATED:
        return []
    return reference_path(
        wildcards.dataset, wildcards.session, wildcards.device, wildcards.pid
    )
