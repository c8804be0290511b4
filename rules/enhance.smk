# One enhance job per (dataset, session, device), writing its three partners' files.
#
# Why a rule per session-device, generated in a loop: a job's outputs must all
# use the job's wildcards, and the partners' pids (part of each output name)
# are not wildcards of a (dataset, session, device) job. Listing the three
# files explicitly keeps each submission file a real output, so deleting one
# re-runs exactly its job, and the device audio is loaded once for all three.

for _session, _device in SESSION_DEVICES:
    _pids = _session.partners_of(_device)

    rule:
        name:
            rule_name_of("enhance", _session.dataset, _session.session, _device)
        input:
            device=device_input_path(_session.dataset, _session.session, _device),
            enrolments=[enrolment_input_path(_session.dataset, p) for p in _pids],
            args_yaml=ARGS_YAML,
        output:
            [submission_path(_session.dataset, _session.session, _device, p) for p in _pids],
        params:
            dataset=_session.dataset,
            session=_session.session,
            device=_device,
            pids=_pids,
            raw_device=raw_device_path(_session.dataset, _session.session, _device),
            enhancement_name=NAME,
        log:
            f"{WORK}/logs/enhance/{NAME}/{_session.dataset}/{_session.session}.{_device}.log",
        threads: SYSTEM.threads
        resources:
            **enhance_resources(),
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/enhance.py"
