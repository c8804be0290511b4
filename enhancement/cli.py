"""``run_enhancement.py``: the upstream recipe's command, running this workflow.

    python run_enhancement.py enhancement_name=example enhance_args=example
    python run_enhancement.py datasets=[dev] -- --cores 4 --dry-run

``key=value`` words become ``--config`` overrides; words after ``--`` go to
Snakemake unchanged.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

from enhancement.plugins import REPO_ROOT

CORE_FLAGS = {"--cores", "-c", "--jobs", "-j", "--profile", "--workflow-profile"}


class UsageError(ValueError):
    pass


def snakemake_command(argv: Sequence[str]) -> list[str]:
    """The snakemake command line for ``run_enhancement.py`` arguments."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    overrides, passthrough = argv[:split], argv[split + 1 :]
    for word in overrides:
        key, sep, _ = word.partition("=")
        if not sep or not key:
            raise UsageError(
                f"expected key=value (e.g. enhancement_name=example), got {word!r}; "
                "put Snakemake options after '--'"
            )
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile")]
    if not any(w.split("=")[0] in CORE_FLAGS for w in passthrough):
        command += ["--cores", "all"]
    if overrides:
        command += ["--config", *overrides]
    return command + passthrough


def main(argv: Sequence[str] | None = None) -> int:
    try:
        command = snakemake_command(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"run_enhancement.py: {exc}", file=sys.stderr)
        return 2
    print("+", " ".join(command), file=sys.stderr)
    return subprocess.call(command, env=os.environ.copy())
