"""``run_enhancement.py`` and ``run_evaluation.py``: the upstream recipe's commands, running this workflow.

    python run_enhancement.py enhancement_name=example enhance_args=example
    python run_enhancement.py datasets=[dev] -- --cores 4 --dry-run
    python run_evaluation.py data_root=D submission_dir=S system=NAME

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


# run_evaluation.py's own words, and upstream's spellings of them, as config keys
EVALUATION_KEYS = {
    "system": "enhancement_name",
    "shared.exp_name": "enhancement_name",
    "submission_dir": "submission_dir",
    "paths.enhancement_output_dir": "submission_dir",
}


def evaluation_command(argv: Sequence[str]) -> list[str]:
    """The snakemake command line that validates and scores a submission folder:
    every dataset given (``evaluate_datasets`` follows ``datasets`` unless given)."""
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    overrides, passthrough = argv[:split], argv[split:]
    translated = []
    for word in overrides:
        key, sep, value = word.partition("=")
        translated.append(f"{EVALUATION_KEYS.get(key, key)}{sep}{value}")
    given = {w.partition("=")[0] for w in translated}
    if "datasets" in given and "evaluate_datasets" not in given:
        # score every dataset given (those with references), not only the config's [dev]
        translated += [f"evaluate_{w}" for w in translated if w.startswith("datasets=")][-1:]
    missing = [k for k in ("submission_dir", "enhancement_name") if k not in given]
    if missing:
        raise UsageError(
            "give the folder to score and a name for it: submission_dir=<folder> system=<name> "
            "(or upstream's paths.enhancement_output_dir=... shared.exp_name=...)"
        )
    return snakemake_command(translated + passthrough)


def run(command_of, argv: Sequence[str] | None, program: str) -> int:
    try:
        command = command_of(sys.argv[1:] if argv is None else argv)
    except UsageError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 2
    print("+", " ".join(command), file=sys.stderr)
    return subprocess.call(command, env=os.environ.copy())


def main(argv: Sequence[str] | None = None) -> int:
    return run(snakemake_command, argv, "run_enhancement.py")


def evaluation_main(argv: Sequence[str] | None = None) -> int:
    return run(evaluation_command, argv, "run_evaluation.py")
