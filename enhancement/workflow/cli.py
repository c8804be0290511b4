"""``run_enhancement.py`` and ``run_evaluation.py``: the upstream recipe's commands, running this workflow.

    python run_enhancement.py enhancement_name=example enhance_args=example
    python run_enhancement.py datasets=[dev] -- --cores 4 --dry-run
    python run_evaluation.py data_root=D submission_dir=S system=NAME

``key=value`` words become ``--config`` overrides; words after ``--`` go to
Snakemake unchanged (options and targets: ``-- compare --dry-run``), except a
``--config`` among them, whose values join the overrides (Snakemake would keep
only one ``--config``). ``--help`` lists the config keys with their defaults.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import yaml

from enhancement.systems.plugins import check_workflow_root

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
                f"expected key=value (e.g. enhancement_name=example), got {word!r}; put Snakemake options after '--'"
            )
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(check_workflow_root() / "Snakefile")]
    if not any(w.split("=")[0] in CORE_FLAGS for w in passthrough):
        command += ["--cores", "all"]
    # --config takes every word up to the next option: it goes after the targets
    # given after '--' (so they stay targets), before any '--' of Snakemake's own
    end = passthrough.index("--") if "--" in passthrough else len(passthrough)
    theirs, options = config_words(passthrough[:end])
    overrides = merged_overrides(overrides, theirs)
    config = ["--config", *overrides] if overrides else []
    return command + options + config + passthrough[end:]


def config_words(words: Sequence[str]) -> tuple[list[str], list[str]]:
    """(the values of every ``--config``/``-C`` among Snakemake's words, the other
    words): Snakemake keeps only the last ``--config``, so a second one, ours,
    would silently drop the user's."""
    values: list[str] = []
    rest: list[str] = []
    words = list(words)
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("--config", "-C"):
            i += 1
            while i < len(words) and not words[i].startswith("-"):
                values.append(words[i])
                i += 1
            continue
        if word.startswith("--config="):
            values.append(word.split("=", 1)[1])
        else:
            rest.append(word)
        i += 1
    return values, rest


def merged_overrides(ours: Sequence[str], theirs: Sequence[str]) -> list[str]:
    """One list of ``key=value`` overrides; a key given twice with two values is
    an error (which one Snakemake would keep is not what anyone should guess)."""
    merged: dict[str, str] = {}
    for word in [*ours, *theirs]:
        key, _, value = word.partition("=")
        if key in merged and merged[key] != value:
            raise UsageError(f"config key {key!r} is given twice ({merged[key]!r} and {value!r}); give it once")
        merged[key] = value
    return [f"{key}={value}" for key, value in merged.items()]


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


def config_keys_help() -> str:
    """Every config key with its default (config.yaml's, else the schema's) and description."""
    schema = yaml.safe_load((Path(__file__).parents[1] / "config.schema.yaml").read_text())
    defaults = yaml.safe_load((check_workflow_root() / "config.yaml").read_text()) or {}
    lines = ["config keys (key=value; lists as [a,b]):"]
    for key, spec in schema["properties"].items():
        default = defaults.get(key, spec.get("default"))
        shown = "(empty)" if default in (None, []) else yaml.safe_dump(default, default_flow_style=True).strip()
        shown = shown.removesuffix("\n...").strip()
        lines.append(f"  {key} = {shown}")
        lines += textwrap.wrap(
            spec.get("description", ""), width=88, initial_indent="      ", subsequent_indent="      "
        )
    return "\n".join(lines)


def usage(doc: str) -> str:
    return f"{doc.strip()}\n\n{config_keys_help()}\n\nSnakemake's own options: snakemake --help"


def wants_help(argv: Sequence[str]) -> bool:
    """``-h``/``--help`` before any ``--`` (after it, the words are Snakemake's)."""
    own = list(argv)[: list(argv).index("--")] if "--" in argv else list(argv)
    return any(w in ("-h", "--help") for w in own)


def run(command_of, argv: Sequence[str] | None, program: str, doc: str) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv):
        print(usage(doc))
        return 0
    try:
        command = command_of(argv)
    except UsageError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 2
    print("+", " ".join(command), file=sys.stderr)
    return subprocess.call(command, env=os.environ.copy())


ENHANCEMENT_USAGE = """\
usage: python run_enhancement.py [key=value ...] [-- snakemake options and targets]

Enhance the configured datasets with a system and make the validated submission
(and its scores where references exist). Examples:
    python run_enhancement.py enhancement_name=example enhance_args=example
    python run_enhancement.py datasets=[dev] -- --cores 4 --dry-run
    python run_enhancement.py -- compare
"""

EVALUATION_USAGE = """\
usage: python run_evaluation.py submission_dir=S system=NAME [key=value ...] [-- snakemake options]

Validate and score a folder of <session>.<device>.<pid>.wav files made by any tool, as
the challenge's official evaluation does (upstream's spelling works too:
paths.enhancement_output_dir=S shared.exp_name=NAME). The reports go to
{work_dir}/evaluation/NAME/{dataset}/.
"""


def main(argv: Sequence[str] | None = None) -> int:
    return run(snakemake_command, argv, "run_enhancement.py", ENHANCEMENT_USAGE)


def evaluation_main(argv: Sequence[str] | None = None) -> int:
    return run(evaluation_command, argv, "run_evaluation.py", EVALUATION_USAGE)
