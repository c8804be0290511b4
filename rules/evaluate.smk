# Scores as the challenge's official evaluation computes them (datasets in
# `evaluate_datasets`): one job per session and device (its partners'
# individual segments and the summed ones), the official report files per
# system and dataset, and the comparison of the systems scored in the work
# folder (`compare_systems` narrows and orders them): its table, its page, the
# landing page's headline and the distributions figure.


include: "functions/evaluate.smk"


rule compare:
    input:
        [comparison_path(d) for d in EVALUATED],


rule score:
    input:
        unpack(scoring_inputs_of),
    output:
        individual=score_table_path(
            "{system}", "{dataset}", "individual", "{session}", "{device}"
        ),
        summed=score_table_path(
            "{system}", "{dataset}", "summed", "{session}", "{device}"
        ),
    log:
        log_path("evaluate", "{system}/{dataset}/{session}.{device}"),
    conda:
        "../environment.yml"
    params:
        partners=partners_of,
        metrics=config["metrics"],
        earliest_start_s=config["evaluation_earliest_start_s"],
        inputs=score_signature,
        code=job_code("score"),
    script:
        "../workflow_scripts/score.py"


rule evaluation_reports:
    input:
        score_tables_of,
    output:
        summary=evaluation_summary_path("{system}", "{dataset}"),
        device_reports=[
            device_report_path("{system}", "{dataset}", device, segment_type)
            for device in config["devices"]
            for segment_type in SEGMENT_TYPES
        ],
        html=report(
            report_path("{system}", "{dataset}", "official.html"),
            caption="report/official.rst",
            category="Scores",
            subcategory="{system} ({dataset})",
            labels={"table": "the official numbers per device"},
        ),
    log:
        log_path("evaluate", "{system}/{dataset}/reports"),
    conda:
        "../environment.yml"
    params:
        devices=config["devices"],
        metrics=config["metrics"],
        earliest_start_s=config["evaluation_earliest_start_s"],
        code=job_code("evaluation_reports"),
    script:
        "../workflow_scripts/evaluation_reports.py"


rule compare_systems:
    input:
        compared_summaries_of,
    output:
        table=comparison_path("{dataset}"),
        html=report(
            "report/comparison.{dataset}.html",
            caption="report/comparison.rst",
            category="Comparison",
            labels={
                "dataset": "{dataset}",
                "item": "official numbers and improvement",
            },
        ),
        figure=report(
            "report/distributions.{dataset}.png",
            caption="report/distributions.rst",
            category="Comparison",
            labels={
                "dataset": "{dataset}",
                "item": "distributions per system and device",
            },
        ),
        # the landing page's headline table (rules/report/workflow.rst includes it)
        headline="report/headline.{dataset}.html",
    log:
        log_path("compare", "{dataset}"),
    conda:
        "../environment.yml"
    params:
        systems=compared_systems_of,
        tables=compared_tables_of,
        reference_system=reference_system_of,
        devices=config["devices"],
        code=job_code("compare"),
    script:
        "../workflow_scripts/compare.py"
