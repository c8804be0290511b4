# The submission check: every expected file present, 16 kHz PCM_16 mono, exact length.


rule validate_submission:
    input:
        submission_files_of,
    output:
        validation_summary_path("{dataset}"),
    params:
        raw_recordings=raw_recordings_of,
    log:
        f"{WORK}/logs/validate/{NAME}/{{dataset}}.log",
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/validate.py"
