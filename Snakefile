# ECHI enhancement workflow: sessions manifest -> resample -> enhance -> validated submission.
# Where references exist (dev): scores and a comparison of systems; `--report report.html`.
#   snakemake --cores all                                  # demo data, passthrough
#   snakemake --cores all --config enhancement_name=example
# See README.md for the config keys, plugins and cluster profiles.

from snakemake.utils import min_version

min_version("9.0")


# The workflow's own config.yaml, also when run with --directory elsewhere;
# relative paths in it are relative to the working directory.
configfile: f"{workflow.basedir}/config.yaml"


# What `snakemake --report report.html` opens with.
report: "rules/report/workflow.rst"


include: "rules/common.smk"
include: "rules/demo.smk"
include: "rules/resample.smk"
include: "rules/enhance.smk"
include: "rules/submission.smk"
include: "rules/evaluate.smk"
include: "rules/report.smk"


# Jobs too small for a cluster queue: they run where Snakemake runs.
localrules:
    all,
    resample,
    submission_file,
    validate_submission,
    compare,
    metrics_tables,
    compare_systems,
    validation_table,


def all_outputs(wildcards):
    """Every enhance output and submission file (listed, so a deleted one is
    re-made: Snakemake does not re-make a missing file whose users are up to
    date), each dataset's validation summary, the scores and the report's
    figures and tables."""
    return (
        enhance_outputs()
        + [submission_path(SYSTEM, t.dataset, t.session, t.device, t.pid) for t in TARGETS]
        + [validation_path(SYSTEM, d) for d in config["datasets"]]
        + evaluation_outputs()
        + report_outputs()
    )


rule all:
    input:
        all_outputs,
    default_target: True
