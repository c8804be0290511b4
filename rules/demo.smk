# The built-in synthetic demo dataset, written only when data_root is the demo folder.

if IS_DEMO:

    rule demo_data:
        input:
            # the generator itself: a changed generator rewrites the demo
            enhancement.demo.__file__,
        output:
            enhancement.demo.demo_files(DATA_ROOT),
        log:
            log_path("demo", "demo_data"),
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/make_demo_data.py"
