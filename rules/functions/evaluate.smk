# Input functions and helpers of rules/evaluate.smk.

import functools

from enhancement.evaluation.headline import run_summary
from enhancement.evaluation.inputs import absent_note, compared_systems, unscored_note


def evaluated_datasets():
    """The datasets being enhanced that `evaluate_datasets` asks to score and
    whose references exist (the demo's are written with it)."""
    wanted = [d for d in config["datasets"] if d in config["evaluate_datasets"]]
    missing = [
        d
        for d in wanted
        if not IS_DEMO and not Path(in_data_root("ref/{dataset}", dataset=d)).is_dir()
    ]
    for dataset in missing:
        logger.warning(
            f"evaluate_datasets: no references under {DATA_ROOT}/ref/{dataset}; {dataset} is not scored"
        )
    return [d for d in wanted if d not in missing]


EVALUATED = evaluated_datasets()

# ---- a dataset with references that evaluate_datasets leaves out: one line ----
if UNSCORED := unscored_note(
    config["datasets"],
    config["evaluate_datasets"],
    [
        d
        for d in config["datasets"]
        if IS_DEMO or Path(in_data_root("ref/{dataset}", dataset=d)).is_dir()
    ],
):
    logger.info(UNSCORED)
SEGMENT_TYPES = ("individual", "summed")


def evaluation_outputs():
    """The configured system's official reports and the comparison of systems,
    per scored dataset."""
    return [evaluation_summary_path(SYSTEM, d) for d in EVALUATED] + [
        comparison_path(d) for d in EVALUATED
    ]


def present_scoring_inputs(paths, what):
    """Those of a target's reference and segment list that exist; a missing
    one is named (its scores are left out, the submission is still made)."""
    if IS_DEMO:
        return paths
    missing = [p for p in paths if not Path(p).is_file()]
    for path in missing:
        warn_once(
            f"{path} is missing: {what} is not scored (the submission is still made)"
        )
    return [p for p in paths if p not in missing]


@functools.cache
def warn_once(message):
    logger.warning(message)


def validated_first(wildcards):
    """Scoring a folder made elsewhere: its validation comes before any score."""
    if SCORING_ONLY and wildcards.system == SYSTEM:
        return [validation_path(SYSTEM, wildcards.dataset)]
    return []


def partner_scoring_files(wildcards, pid):
    """A partner's reference and segment list under data_root."""
    w = wildcards
    return {
        f"reference_{pid}": reference_path(w.dataset, w.session, w.device, pid),
        f"segments_{pid}": segments_path(w.dataset, w.session, w.device, pid),
    }


def scoring_inputs_of(wildcards):
    """What a session-device's scoring job reads, by name: the partners' submission
    files (seat order), and each partner's reference and segment list
    (`reference_{pid}`, `segments_{pid}`) where they exist. A missing one is
    named: that partner and the summed segments are not scored, the rest is."""
    w = wildcards
    present = {}
    for pid in partners_of(wildcards):
        files = partner_scoring_files(wildcards, pid)
        found = present_scoring_inputs(
            list(files.values()), f"{w.session}.{w.device}.{pid}"
        )
        present.update({name: path for name, path in files.items() if path in found})
    present_scoring_inputs(
        [
            path
            for pid in partners_of(wildcards)
            for path in partner_scoring_files(wildcards, pid).values()
        ],
        f"{w.session}.{w.device} (summed)",
    )
    inputs = {"submissions": partner_submissions_of(wildcards), **present}
    if validated := validated_first(wildcards):
        inputs["validated"] = validated
    return inputs


def submission_of(wildcards):
    """A target's submission file of a system (in submission_dir when scoring a folder)."""
    w = wildcards
    return submission_path(w.system, w.dataset, w.session, w.device, w.pid)


def partner_submissions_of(wildcards):
    """A session-device's submission files of a system, in seat order."""
    w = wildcards
    return [
        submission_path(w.system, w.dataset, w.session, w.device, pid)
        for pid in partners_of(wildcards)
    ]


def score_tables(system, dataset):
    """Every scoring table of a system and dataset: per session and device,
    one of its individual segments and one of its summed ones."""
    pairs = dict.fromkeys((t.session, t.device) for t in targets_in(dataset))
    return [
        score_table_path(system, dataset, segment_type, session, device)
        for session, device in pairs
        for segment_type in SEGMENT_TYPES
    ]


def score_tables_of(wildcards):
    return score_tables(wildcards.system, wildcards.dataset)


def finished_submission(system, dataset):
    """Every submission file of a dataset from a system, and its validation summary."""
    files = [
        submission_path(system, t.dataset, t.session, t.device, t.pid)
        for t in targets_in(dataset)
    ]
    return all(Path(f).is_file() for f in [*files, validation_path(system, dataset)])


def systems_in_work_dir(dataset):
    """The systems with official reports of a dataset in the work folder (run
    by the workflow or a folder scored by run_evaluation.py), and those with a
    finished submission of it (scored for the comparison)."""
    scored = {
        p.parent.parent.name
        for p in Path("evaluation").glob(f"*/{dataset}/summary.{dataset}.json")
    }
    run = {
        p.parent.parent.name
        for p in Path("enhanced").glob(f"*/{dataset}/validation.csv")
        if finished_submission(p.parent.parent.name, dataset)
    }
    return sorted(scored | run)


@functools.cache
def systems_compared(dataset):
    """The systems the comparison of a dataset shows, the reference first:
    every one scored in the work folder, or those `compare_systems` names."""
    shown, absent = compared_systems(
        config["compare_systems"], systems_in_work_dir(dataset), SYSTEM
    )
    if absent:
        logger.info(absent_note(dataset, absent))
    return shown


def compared_systems_of(wildcards):
    return systems_compared(wildcards.dataset)


def reference_system_of(wildcards):
    """The system the others' improvements are measured against."""
    return systems_compared(wildcards.dataset)[0]


def compared_summaries_of(wildcards):
    """The official reports of each compared system (scored from its submission if missing)."""
    return [
        evaluation_summary_path(s, wildcards.dataset)
        for s in systems_compared(wildcards.dataset)
    ]


def compared_tables_of(wildcards):
    """Each compared system's scoring tables, for the paired improvements."""
    return {
        s: score_tables(s, wildcards.dataset)
        for s in systems_compared(wildcards.dataset)
    }


# ---- inputs that exist when the run is planned (params: a change re-runs) -----
# Snakemake re-runs a job whose input is newer than its output; a file replaced
# by an older one (cp -p, rsync -a, tar x) is caught by these signatures.


def signatures_of(paths):
    """Size and mtime (file_signature) of those of the paths that exist."""
    return [file_signature(p) for p in paths if IS_DEMO or Path(p).is_file()]


def submission_signatures(system, paths):
    """Submission files made elsewhere (submission_dir), which exist when the
    run is planned; the workflow's own are outputs, newer than what they use."""
    if not (SCORING_ONLY and system == SYSTEM):
        return []
    return [stat_signature(p) for p in paths if Path(p).is_file()]


def score_signature(wildcards):
    """The references and segment lists a session-device's scoring job reads,
    and its submission files where they were made elsewhere."""
    paths = [
        path
        for pid in partners_of(wildcards)
        for path in partner_scoring_files(wildcards, pid).values()
    ]
    return signatures_of(paths) + submission_signatures(
        wildcards.system, partner_submissions_of(wildcards)
    )


def say_headline():
    """The end of a run that scored: the configured system's main numbers per
    scored dataset, and where the report files are."""
    lines = run_summary(
        [(d, Path(WORK, comparison_path(d))) for d in EVALUATED],
        SYSTEM,
        [Path(WORK, evaluation_dir(SYSTEM, d)) for d in EVALUATED],
    )
    for line in lines:
        logger.info(line)
