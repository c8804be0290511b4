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
include: "rules/functions/targets.smk"


# Jobs too small for a cluster queue: they run where Snakemake runs (and
# submission_file, where it exists: rules/submission.smk).
localrules:
    all,
    resample,
    validate_submission,
    compare,
    evaluation_reports,
    compare_systems,
    validation_table,


# `kill` of Snakemake also stops the jobs it runs (enhancement/workflow/shutdown.py).
onstart:
    pass_sigterm_to_jobs()


# A run that scored ends with the main numbers and where the files are.
onsuccess:
    say_headline()


rule all:
    default_target: True
    input:
        all_outputs,
