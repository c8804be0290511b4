# What `snakemake --report report.html` shows besides the scores: the
# validation summary, and for a few targets per dataset (`report_spectrograms`)
# spectrograms of input, output and reference, and a page of players: the same
# excerpts of the input, the reference and every compared system.


include: "functions/report.smk"


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
    conda:
        "../environment.yml"
    params:
        code=job_code("validation_table"),
    script:
        "../workflow_scripts/validation_table.py"


rule spectrogram:
    input:
        device=raw_device_path("{dataset}", "{session}", "{device}"),
        submission=submission_of,
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
    conda:
        "../environment.yml"
    params:
        inputs=spectrogram_signature,
        code=job_code("spectrogram"),
    script:
        "../workflow_scripts/spectrogram.py"


rule listen:
    input:
        unpack(listen_inputs_of),
    output:
        report(
            report_path(
                "{system}", "{dataset}", "listen/{session}.{device}.{pid}.html"
            ),
            caption="report/listen.rst",
            category="Listen",
            subcategory="{system} ({dataset}, {device})",
            labels={"session": "{session}", "device": "{device}", "partner": "{pid}"},
        ),
    log:
        log_path("report", "{system}/{dataset}/listen/{session}.{device}.{pid}"),
    conda:
        "../environment.yml"
    params:
        compared=listened_systems_of,
        reference_system=listen_reference_of,
        earliest_start_s=config["evaluation_earliest_start_s"],
        inputs=listen_signature,
        code=job_code("listen"),
    script:
        "../workflow_scripts/listen.py"
