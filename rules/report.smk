# What `snakemake --report report.html` shows besides the scores: the
# validation summary, and spectrograms of input, output and reference for a few
# targets per dataset (`report_spectrograms`).

from enhancement.manifest import spread


def report_outputs():
    """The validation summary as a table, and spectrogram figures of up to
    `report_spectrograms` targets per dataset (spread over sessions and devices;
    a figure per target would be a matplotlib job per file, and a report no one reads)."""
    tables = [report_path(SYSTEM, d, "validation.html") for d in config["datasets"]]
    figures = [
        report_path(SYSTEM, t.dataset, f"spectrograms/{t.session}.{t.device}.{t.pid}.png")
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


rule validation_table:
    input:
        validation_path("{system}", "{dataset}"),
    output:
        report(
            report_path("{system}", "{dataset}", "validation.html"),
            caption="report/validation.rst",
            category="Submission",
            labels={"system": "{system}", "dataset": "{dataset}"},
        ),
    log:
        log_path("report", "{system}/{dataset}/validation"),
    script:
        "../workflow_scripts/validation_table.py"


rule spectrogram:
    input:
        device=raw_device_path("{dataset}", "{session}", "{device}"),
        submission=submission_path(
            "{system}", "{dataset}", "{session}", "{device}", "{pid}"
        ),
        reference=reference_if_scored,
    output:
        report(
            report_path(
                "{system}", "{dataset}", "spectrograms/{session}.{device}.{pid}.png"
            ),
            caption="report/spectrogram.rst",
            category="Spectrograms",
            subcategory="{system} ({dataset}, {device})",
            labels={"session": "{session}", "device": "{device}", "partner": "{pid}"},
        ),
    log:
        log_path("report", "{system}/{dataset}/spectrograms/{session}.{device}.{pid}"),
    script:
        "../workflow_scripts/spectrogram.py"
