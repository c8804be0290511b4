#!/usr/bin/env python3
"""Score a submission folder made by any tool, as the challenge's evaluation does:

    python run_evaluation.py data_root=D submission_dir=S system=NAME [key=value ...] [-- snakemake options]

(upstream's spelling works too: paths.enhancement_output_dir=S shared.exp_name=NAME).
The folder is validated first; the reports go to {work_dir}/evaluation/NAME/{dataset}/.
"""

import sys

from enhancement.workflow.cli import evaluation_main

if __name__ == "__main__":
    sys.exit(evaluation_main())
