# The submission: each partner's output at its submission name, then the check
# that every expected file is there, 16 kHz PCM_16 mono, of the exact length.


include: "functions/submission.smk"


rule submission_file:
    input:
        partner_output_of,
    output:
        submission_path(SYSTEM, "{dataset}", "{session}", "{device}", "{pid}"),
    log:
        log_path("submission", f"{SYSTEM}/{{dataset}}/{{session}}.{{device}}.{{pid}}"),
    run:
        place_submission_file(input[0], output[0], log[0])


rule validate_submission:
    input:
        submission_files_of,
    output:
        validation_path(SYSTEM, "{dataset}"),
    log:
        log_path("validate", f"{SYSTEM}/{{dataset}}"),
    conda:
        "../environment.yml"
    params:
        raw_recordings=raw_recordings_of,
    script:
        "../workflow_scripts/validate.py"
