# Input functions and helpers of rules/enhance.smk.


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


def raw_inputs_signature(wildcards):
    """The raw device and enrolment files this job's audio comes from (read
    directly at 48 kHz, or through the resampled copies)."""
    raw = [raw_device_of(wildcards)] + [
        raw_enrolment_path(wildcards.dataset, p) for p in partners_of(wildcards)
    ]
    return [file_signature(path) for path in raw]
