# Input functions and helpers of rules/resample.smk.


def all_resampled(wildcards):
    """The resampled device and enrolment files the configured system reads."""
    devices = {device_input_path(s.dataset, s.session, d) for s, d in SESSION_DEVICES}
    enrolments = {enrolment_input_path(t.dataset, t.pid) for t in TARGETS}
    return sorted(devices | enrolments)


def device_channels(wildcards):
    return challenge.DEVICE_CHANNELS[wildcards.device]


def raw_device_signature(wildcards):
    return file_signature(
        raw_device_path(wildcards.dataset, wildcards.session, wildcards.device)
    )


def raw_enrolment_signature(wildcards):
    return file_signature(raw_enrolment_path(wildcards.dataset, wildcards.pid))
