# Device and enrolment audio at the rate the system wants, once per rate:
# systems that share a rate share these files.


rule resample:
    input:
        all_resampled(),


rule resample_device:
    input:
        f"{DATA_ROOT}/{{device}}/{{dataset}}/{{session}}.{{device}}.wav",
    output:
        f"{WORK}/resampled/{{rate}}/{{device}}/{{dataset}}/{{session}}.{{device}}.wav",
    params:
        expected_rate=RAW_RATE,
        expected_channels=device_channels,
    log:
        f"{WORK}/logs/resample/{{rate}}/{{device}}/{{dataset}}/{{session}}.{{device}}.log",
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/resample.py"


rule resample_enrolment:
    input:
        f"{DATA_ROOT}/participant/{{dataset}}/{{pid}}.wav",
    output:
        f"{WORK}/resampled/{{rate}}/participant/{{dataset}}/{{pid}}.wav",
    params:
        expected_rate=RAW_RATE,
        expected_channels=1,
    log:
        f"{WORK}/logs/resample/{{rate}}/participant/{{dataset}}/{{pid}}.log",
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/resample.py"
