# One enhance job per (dataset, session, device): the device audio and the
# system are loaded once, and the system is called for each of the three
# partners. The job's outputs are named by partner number (seat order), so one
# wildcard rule serves any manifest; `submission_file` (rules/submission.smk)
# puts each at its submission name. The partners' pids are a parameter: a
# changed pid at a seat re-runs the job (Snakemake's params rerun trigger).
# Paths into the workflow's folder are parameters relative to it
# (enhancement/workflow/portable.py).


include: "functions/enhance.smk"


rule enhance:
    input:
        device=device_input_path("{dataset}", "{session}", "{device}"),
        enrolments=enrolment_inputs,
    output:
        [
            partner_output_path(SYSTEM, "{dataset}", "{session}", "{device}", k)
            for k in range(1, challenge.PARTNERS_PER_DEVICE + 1)
        ],
    log:
        log_path("enhance", f"{SYSTEM}/{{dataset}}/{{session}}.{{device}}"),
    conda:
        "../environment.yml"
    threads: SYSTEM_ARGS.threads
    resources:
        **enhance_resources(),
    params:
        pids=partners_of,
        raw_device=raw_device_of,
        system=SYSTEM,
        system_code=SYSTEM_CODE,
        plugin_dirs=[portable(d, workflow.basedir) for d in SYSTEM_PLUGIN_DIRS],
        # what the args yaml says, not its date or its folder: a clone elsewhere re-runs nothing
        args=SYSTEM_ARGS.meaning(),
        args_yaml=portable(ARGS_YAML, workflow.basedir),
        code=job_code("enhance"),
        raw_inputs=raw_inputs_signature,
    script:
        "../workflow_scripts/enhance.py"
