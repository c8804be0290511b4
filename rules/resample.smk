# Device and enrolment audio at the rate the system wants, once per rate:
# systems that share a rate share these files.


def all_resampled(wildcards):
    """The resampled device and enrolment files the configured system reads."""
    devices = {device_input_path(s.dataset, s.session, d) for s, d in SESSION_DEVICES}
    enrolments = {enrolment_input_path(t.dataset, t.pid) for t in TARGETS}
    return sorted(devices | enrolments)


def device_channels(wildcards):
    return challenge.DEVICE_CHANNELS[wildcards.device]


rule resample:
    input:
        all_resampled,


rule resample_device:
    input:
        raw_device_path("{dataset}", "{session}", "{device}"),
    output:
        resampled_device_path("{rate}", "{dataset}", "{session}", "{device}"),
    params:
        expected_rate=RAW_RATE,
        expected_channels=device_channels,
    log:
        log_path("resample", "{rate}/{device}/{dataset}/{session}.{device}"),
    script:
        "../workflow_scripts/resample.py"


rule resample_enrolment:
    input:
        raw_enrolment_path("{dataset}", "{pid}"),
    output:
        resampled_enrolment_path("{rate}", "{dataset}", "{pid}"),
    params:
        expected_rate=RAW_RATE,
        expected_channels=1,
    log:
        log_path("resample", "{rate}/participant/{dataset}/{pid}"),
    script:
        "../workflow_scripts/resample.py"
