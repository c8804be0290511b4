#!/usr/bin/env python3
"""Run the enhancement workflow the way the upstream recipe is run:

    python run_enhancement.py enhancement_name=example enhance_args=example [-- snakemake options]
"""

import sys

from enhancement.workflow.cli import main

if __name__ == "__main__":
    sys.exit(main())
