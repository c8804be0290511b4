# The submission: each partner's output at its submission name, then the check
# that every expected file is there, 16 kHz PCM_16 mono, of the exact length.


include: "functions/submission.smk"


if not SCORING_ONLY:

    # A hard link (no copy of the audio), or a copy where the file system cannot
    # link; written under a temporary name and renamed into place. A shell job:
    # Snakemake would start a whole new Snakemake process for each `run:` job.
    # It first removes the dataset's record of validated files: the workflow's
    # own re-make is not an edit (enhancement/data/outputs.py).
    rule submission_file:
        input:
            partner_output_of,
        output:
            submission_path(SYSTEM, "{dataset}", "{session}", "{device}", "{pid}"),
        log:
            log_path(
                "submission", f"{SYSTEM}/{{dataset}}/{{session}}.{{device}}.{{pid}}"
            ),
        conda:
            "../environment.yml"
        params:
            validated=validated_record_of,
        shell:
            "rm -f {params.validated:q}; "
            'tmp="$(dirname {output:q})/.$(basename {output:q}).link.part"; rm -f "$tmp"; '
            '{{ ln {input:q} "$tmp" && echo "hard link:" {output:q} "<-" {input:q} || '
            '{{ cp {input:q} "$tmp" && echo "copy (no hard link):" {output:q} "<-" {input:q}; }}; }} > {log:q} 2>&1; '
            'mv -f "$tmp" {output:q}'

    # A submission file edited or replaced since it was validated is refused
    # here, before Snakemake's mtime comparison could take it for up to date.
    if PLANNER:
        refuse_changed_submission()

    # A link: too small a job for a cluster queue (as the Snakefile's localrules).
    localrules:
        submission_file,


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
        length_sources=length_sources_of,
        folder=submission_folder_of,
        inputs=validation_signature,
        code=job_code("validate"),
        record=validated_record_of,
    script:
        "../workflow_scripts/validate.py"
