# The built-in synthetic demo dataset, written only when data_root is the demo folder.

if IS_DEMO:

    rule demo_data:
        input:
            # the generator itself: a changed generator rewrites the demo
            DEMO_GENERATOR,
        output:
            demo_files(DATA_ROOT),
        log:
            f"{WORK}/logs/demo_data.log",
        conda:
            "../environment.yml"
        script:
            "../workflow_scripts/make_demo_data.py"
