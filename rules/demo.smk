# The built-in synthetic demo dataset, written only when data_root is the demo folder.

if IS_DEMO:

    rule demo_data:
        output:
            enhancement.data.demo.demo_files(DATA_ROOT),
        log:
            log_path("demo", "demo_data"),
        conda:
            "../environment.yml"
        params:
            # the generator's code, not its path: a changed generator rewrites
            # the demo, a moved checkout of the workflow does not
            code=job_code("make_demo_data"),
        script:
            "../workflow_scripts/make_demo_data.py"
