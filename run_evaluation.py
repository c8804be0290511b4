#!/usr/bin/env python3
"""Score a submission folder made by any tool, as the challenge's evaluation does:

    python run_evaluation.py data_root=D submission_dir=S system=NAME [key=value ...] [-- snakemake options]

(upstream's spelling works too: paths.enhancement_output_dir=S shared.exp_name=NAME).
The folder is validated first; the reports go to {work_dir}/evaluation/NAME/{dataset}/.
"""

import os
import sys

# this clone's Snakefile, config.yaml and enhance_args/, however the package is installed
os.environ.setdefault("ECHI_WORKFLOW_DIR", os.path.dirname(os.path.abspath(__file__)))

from enhancement.workflow.cli import evaluation_main  # noqa: E402

if __name__ == "__main__":
    sys.exit(evaluation_main())
