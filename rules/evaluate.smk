# Scores against the clean references (datasets in `evaluate_datasets`): one
# job per submission file, gathered into the submission's metrics tables; and
# the comparison of the systems in `compare_systems` that have been run.


include: "functions/evaluate.smk"


rule compare:
    input:
        [comparison_path(d) for d in EVALUATED],


rule evaluate_file:
    input:
        submission=submission_path(
            "{system}", "{dataset}", "{session}", "{device}", "{pid}"
        ),
        reference=reference_path("{dataset}", "{session}", "{device}", "{pid}"),
        segments=segments_path("{dataset}", "{session}", "{device}", "{pid}"),
    output:
        file_scores_path("{system}", "{dataset}", "{session}", "{device}", "{pid}"),
    log:
        log_path("evaluate", "{system}/{dataset}/{session}.{device}.{pid}"),
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/evaluate.py"


rule metrics_tables:
    input:
        scores=file_scores_of,
        validation=validation_path("{system}", "{dataset}"),
    output:
        segments=report(
            metrics_path("{system}", "{dataset}"),
            caption="report/metrics.rst",
            category="Scores",
            subcategory="{system} ({dataset})",
            labels={"table": "metrics.csv: every segment (download)"},
        ),
        by_file=metrics_path("{system}", "{dataset}", "metrics_by_file"),
        by_device=metrics_path("{system}", "{dataset}", "metrics_by_device"),
        by_file_html=report(
            report_path("{system}", "{dataset}", "metrics_by_file.html"),
            caption="report/metrics_by_file.rst",
            category="Scores",
            subcategory="{system} ({dataset})",
            labels={"table": "per file"},
        ),
        by_device_html=report(
            report_path("{system}", "{dataset}", "metrics_by_device.html"),
            caption="report/metrics_by_device.rst",
            category="Scores",
            subcategory="{system} ({dataset})",
            labels={"table": "per device"},
        ),
    log:
        log_path("evaluate", "{system}/{dataset}"),
    conda:
        "../environment.yml"
    script:
        "../workflow_scripts/metrics_tables.py"


rule compare_systems:
    input:
        compared_metrics_of,
    output:
        table=comparison_path("{dataset}"),
        html=report(
            f"{WORK}/report/comparison.{{dataset}}.html",
            caption="report/comparison.rst",
            category="Comparison",
            labels={"dataset": "{dataset}", "item": "mean scores and improvement"},
        ),
        figure=report(
            f"{WORK}/report/distributions.{{dataset}}.png",
            caption="report/distributions.rst",
            category="Comparison",
            labels={
                "dataset": "{dataset}",
                "item": "distributions per system and device",
            },
        ),
    log:
        log_path("compare", "{dataset}"),
    conda:
        "../environment.yml"
    params:
        systems=compared_systems_of,
        reference_system=COMPARED[0],
    script:
        "../workflow_scripts/compare.py"
