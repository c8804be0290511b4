#!/usr/bin/env python3
"""Run the enhancement workflow the way the upstream recipe is run:

python run_enhancement.py enhancement_name=example enhance_args=example [-- snakemake options]
"""

import os
import sys

# this clone's Snakefile, config.yaml and enhance_args/, however the package is installed
os.environ.setdefault("ECHI_WORKFLOW_DIR", os.path.dirname(os.path.abspath(__file__)))

from enhancement.workflow.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
