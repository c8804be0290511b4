# Device and enrolment audio at the rate the system wants, once per rate:
# systems that share a rate share these files.


include: "functions/resample.smk"


rule resample:
    input:
        all_resampled,


rule resample_device:
    input:
        raw_device_path("{dataset}", "{session}", "{device}"),
    output:
        resampled_device_path("{rate}", "{dataset}", "{session}", "{device}"),
    log:
        log_path("resample", "{rate}/{device}/{dataset}/{session}.{device}"),
    conda:
        "../environment.yml"
    params:
        expected_rate=RAW_RATE,
        expected_channels=device_channels,
        source=raw_device_signature,
        code=job_code("resample"),
    script:
        "../workflow_scripts/resample.py"


rule resample_enrolment:
    input:
        raw_enrolment_path("{dataset}", "{pid}"),
    output:
        resampled_enrolment_path("{rate}", "{dataset}", "{pid}"),
    log:
        log_path("resample", "{rate}/participant/{dataset}/{pid}"),
    conda:
        "../environment.yml"
    params:
        expected_rate=RAW_RATE,
        expected_channels=1,
        source=raw_enrolment_signature,
        code=job_code("resample"),
    script:
        "../workflow_scripts/resample.py"
