"""Checks the workflow makes once when it plans (``--dry-run`` included).

A mistake in the config or the system's args found here stops Snakemake
before any file is written, with one message naming the value and what to
do; found in the jobs instead, it would surface after resampling and
enhancement ran, once per job, and a failing enhance job deletes the
outputs it was re-making. Nothing here imports plugin or metric code
(torch, the scorers): the checks run at every plan.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from enhancement.evaluation.metric_names import resolve_metrics
from enhancement.systems.args import SystemArgs
from enhancement.systems.plugins import ENV_VAR, plugin_modules
from enhancement.workflow.system_code import BUILTIN_CODE, PACKAGE_DIR, _python_files

LITERAL_REGISTRATION = re.compile(r"register_enhancement\(\s*['\"]([^'\"]+)['\"]\s*\)")
# a call whose name is not a plain string literal: computed when the module runs
COMPUTED_REGISTRATION = re.compile(r"register_enhancement\(\s*(?!['\"])(?!\))")
BASELINE_FILE_ARGS = ("config_path", "ckpt_path")


class PlanError(ValueError):
    """A config or args value the workflow refuses before it runs anything."""


def check_metrics(metrics: str | Sequence[str]) -> None:
    """The ``metrics`` config names only metrics computed here."""
    try:
        resolve_metrics(metrics)
    except ValueError as exc:
        raise PlanError(f"config metrics={metrics!r}: {exc} (--config metrics=full)") from None


def check_earliest_start(value: float) -> None:
    """``evaluation_earliest_start_s`` is a finite number of seconds (the
    schema's ``minimum: 0`` lets NaN and infinity through)."""
    if not math.isfinite(value):
        raise PlanError(
            f"config evaluation_earliest_start_s={value!r} is not a finite number of seconds; "
            "give e.g. 30 (the official rule) or 0 (no segment left out)"
        )


def registrations(plugin_folders: Iterable[Path]) -> tuple[dict[str, list[tuple[Path, Path]]], list[Path]]:
    """Names registered with a literal string -> (plugin folder, file) of each
    module registering it, and the folders with a module registering a name
    computed at run time. Read as text, like ``system_code``: nothing is imported."""
    named: dict[str, list[tuple[Path, Path]]] = {}
    computed: list[Path] = []
    for folder in plugin_folders:
        for _, module, is_package in plugin_modules(Path(folder)):
            for file in _python_files(module.parent if is_package else module):
                text = file.read_text(errors="replace")
                for name in LITERAL_REGISTRATION.findall(text):
                    named.setdefault(name, []).append((Path(folder), file))
                if COMPUTED_REGISTRATION.search(text) and folder not in computed:
                    computed.append(Path(folder))
    return named, computed


def system_plugin_dirs(name: str, plugin_folders: Sequence[Path]) -> list[Path]:
    """The plugin folders an enhance job of ``name`` imports: none for a
    built-in system, the folders registering it, or, where a plugin registers
    a computed name, every folder. Only these go to the jobs (a parameter of
    theirs), so adding an unrelated folder re-runs no enhance job.

    A name that nothing registers is refused, naming the folders searched."""
    if name in BUILTIN_CODE:
        return []
    named, computed = registrations(plugin_folders)
    if computed:
        return list(plugin_folders)
    if name in named:
        return list(dict.fromkeys(folder for folder, _ in named[name]))
    known = {n: [PACKAGE_DIR / "systems" / "builtins.py"] for n in BUILTIN_CODE} | {
        n: [file for _, file in where] for n, where in named.items()
    }
    listed = "\n".join(f"  {n:<16} {', '.join(str(f) for f in where)}" for n, where in sorted(known.items()))
    searched = "\n".join(f"  {folder}" for folder in plugin_folders) or "  (none)"
    raise PlanError(
        f"unknown enhancement_name {name!r}. Registered systems (name, defined in):\n{listed}\n"
        f"No module in the plugin folders searched registers it:\n{searched}\n"
        f"If its plugin (a module with @register_enhancement({name!r})) is in another folder, add that "
        f"folder: --config plugin_dirs=[<folder>] (or plugin_dirs: in the config, or {ENV_VAR}=<folder>); "
        "otherwise correct enhancement_name. Nothing was run."
    )


def missing_baseline_files(system: SystemArgs, devices: Iterable[str]) -> list[str]:
    """The baseline's model configs and checkpoints (``{device}`` replaced by
    each device enhanced) that are not files, described; relative paths are
    taken from the working directory, as the enhance job does."""
    missing = []
    for key in BASELINE_FILE_ARGS:
        template = system.args.get(key)
        if not isinstance(template, str):
            continue  # a missing or odd arg is the job's args check's to report
        for path in dict.fromkeys(template.replace("{device}", d) for d in devices):
            if not Path(path).is_file():
                missing.append(f"  {path} ({key}: {template!r})")
    return missing


def check_baseline_files(system: SystemArgs, devices: Iterable[str]) -> None:
    """All of the baseline's files exist before any job is planned."""
    missing = missing_baseline_files(system, devices)
    if missing:
        from enhancement.baseline.system import _UPSTREAM_HINT

        raise PlanError(
            f"the baseline's model files named in {system.path} are missing (relative paths are "
            f"relative to {Path.cwd()}):\n"
            + "\n".join(missing)
            + f"\nDownload them, or set config_path and ckpt_path under args in {system.path} "
            f"(or pass enhance_args=<your yaml>). {_UPSTREAM_HINT}"
        )
