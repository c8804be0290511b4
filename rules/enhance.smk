# One enhance job per (dataset, session, device): the device audio and the
# system are loaded once, and the system is called for each of the three
# partners. The job's outputs are named by partner number (seat order), so one
# wildcard rule serves any manifest; `submission_file` (rules/submission.smk)
# puts each at its submission name. The partners' pids are a parameter: a
# changed pid at a seat re-runs the job (Snakemake's params rerun trigger).


def enhance_mem_mb(wildcards, input):
    """Memory of an enhance job: the device audio as float32 (twice its PCM_16
    size), room for the system's copies of it, and the interpreter with torch."""
    return int(1024 + 4 * input.size_mb)


def enhance_resources():
    """Resources of the enhance jobs: every key of the args yaml's `resources:`
    (already type-checked by load_args), over defaults. A system needing a GPU
    says so there (`gpu: 1`, `gpu_model`, `slurm_partition`, `slurm_extra`, ...),
    never the rule; `--set-resources enhance:KEY=VALUE` still overrides."""
    resources = {"mem_mb": enhance_mem_mb, "runtime": 60, **SYSTEM_ARGS.resources}
    if resources.get("gpu_model") and not resources.get("gpu"):
        # the SLURM executor asks for one GPU of that model; count it locally too
        resources["gpu"] = 1
    return resources


def enhance_outputs():
    """Every enhance job's outputs."""
    return [
        partner_output_path(SYSTEM, s.dataset, s.session, device, k)
        for s, device in SESSION_DEVICES
        for k in range(1, challenge.PARTNERS_PER_DEVICE + 1)
    ]


def enrolment_inputs(wildcards):
    """The partners' enrolments at the system's rate, in partner order."""
    return [enrolment_input_path(wildcards.dataset, p) for p in partners_of(wildcards)]


def raw_device_of(wildcards):
    return raw_device_path(wildcards.dataset, wildcards.session, wildcards.device)


rule enhance:
    input:
        device=device_input_path("{dataset}", "{session}", "{device}"),
        enrolments=enrolment_inputs,
        args_yaml=ARGS_YAML,
    output:
        [
            partner_output_path(SYSTEM, "{dataset}", "{session}", "{device}", k)
            for k in range(1, challenge.PARTNERS_PER_DEVICE + 1)
        ],
    params:
        pids=partners_of,
        raw_device=raw_device_of,
        system=SYSTEM,
    log:
        log_path("enhance", f"{SYSTEM}/{{dataset}}/{{session}}.{{device}}"),
    threads: SYSTEM_ARGS.threads
    resources:
        **enhance_resources(),
    script:
        "../workflow_scripts/enhance.py"
