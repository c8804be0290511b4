# What `rule all` asks for (evaluated when the DAG is built, after every stage is defined).


def all_outputs(wildcards):
    """Every enhance output and submission file (listed, so a deleted one is
    re-made: Snakemake does not re-make a missing file whose users are up to
    date), each dataset's validation summary, the scores and the report's
    figures and tables. Scoring a folder made elsewhere (`submission_dir`):
    its validation, the official reports and the comparison with every
    system scored in the work folder."""
    if SCORING_ONLY:
        return (
            [validation_path(SYSTEM, d) for d in config["datasets"]]
            + [evaluation_summary_path(SYSTEM, d) for d in EVALUATED]
            + [comparison_path(d) for d in EVALUATED]
        )
    return (
        enhance_outputs()
        + [
            submission_path(SYSTEM, t.dataset, t.session, t.device, t.pid)
            for t in TARGETS
        ]
        + [validation_path(SYSTEM, d) for d in config["datasets"]]
        + evaluation_outputs()
        + report_outputs()
    )
