# Input functions and helpers of rules/evaluate.smk.

import functools


def evaluated_datasets():
    """The datasets being enhanced that `evaluate_datasets` asks to score and
    whose references exist (the demo's are written with it)."""
    wanted = [d for d in config["datasets"] if d in config["evaluate_datasets"]]
    missing = [
        d for d in wanted if not IS_DEMO and not Path(f"{DATA_ROOT}/ref/{d}").is_dir()
    ]
    for dataset in missing:
        logger.warning(
            f"evaluate_datasets: no references under {DATA_ROOT}/ref/{dataset}; {dataset} is not scored"
        )
    return [d for d in wanted if d not in missing]


EVALUATED = evaluated_datasets()
# The systems `compare` puts side by side; the first is the one the others'
# improvement is measured against.
COMPARED = list(dict.fromkeys([*config["compare_systems"], SYSTEM]))


def evaluation_outputs():
    """The configured system's scores and the comparison of systems, per scored dataset."""
    return [metrics_path(SYSTEM, d) for d in EVALUATED] + [
        comparison_path(d) for d in EVALUATED
    ]


def file_scores_of(wildcards):
    """The per-file scores of every submission file of a system and dataset."""
    return [
        file_scores_path(wildcards.system, t.dataset, t.session, t.device, t.pid)
        for t in targets_in(wildcards.dataset)
    ]


@functools.cache
def systems_with_submission(dataset):
    """The systems of `compare_systems` with a finished submission of a
    dataset (every file and its validation summary), and the configured one.
    Those not yet run are left out, saying how to add them."""
    found, absent = [], []
    for system in COMPARED:
        files = [
            submission_path(system, t.dataset, t.session, t.device, t.pid)
            for t in targets_in(dataset)
        ]
        files.append(validation_path(system, dataset))
        finished = system == SYSTEM or all(Path(f).is_file() for f in files)
        (found if finished else absent).append(system)
    if absent:
        logger.info(
            f"compare ({dataset}): no finished submission of {', '.join(absent)}; "
            f"run e.g. `snakemake --config enhancement_name={absent[0]}` to add it"
        )
    return found


def compared_systems_of(wildcards):
    return systems_with_submission(wildcards.dataset)


def compared_metrics_of(wildcards):
    """metrics.csv of each compared system (made from its submission if missing)."""
    return [
        metrics_path(s, wildcards.dataset)
        for s in systems_with_submission(wildcards.dataset)
    ]
