"""Which source files make up a system, and a fingerprint of them.

The enhance jobs carry the fingerprint as a parameter, so editing the code of
the configured system re-runs its jobs (Snakemake's params rerun trigger) and
a submission is never left over from old code. Found without importing
anything: the workflow computes it every time it plans, and importing a
plugin means importing torch.

What counts as the system's code:

- a plugin: the module that registers the name (``@register_enhancement("name")``
  written with the name as a literal), or, where that module is a package,
  every ``.py`` file of the package; where no module names it literally (a
  name computed at run time), every module of every plugin folder;
- a built-in system: its files in this package (``BUILTIN_CODE``).

The package code that runs a system in the job (``enhancement/systems/enhance.py`` and
what it imports) is the enhance rule's ``code`` parameter
(``enhancement.workflow.job_code``). Comments, docstrings and formatting do not count
(``code_fingerprint``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from enhancement.systems.plugins import plugin_modules
from enhancement.workflow.job_code import code_fingerprint

__all__ = ["BUILTIN_CODE", "code_fingerprint", "registers", "system_code_files"]

PACKAGE_DIR = Path(__file__).resolve().parent
BUILTIN_CODE = {
    "passthrough": ("builtins.py",),
    "baseline": ("builtins.py", "baseline"),
}


def _python_files(path: Path) -> list[Path]:
    return sorted(path.rglob("*.py")) if path.is_dir() else [path]


def registers(module: Path, name: str) -> bool:
    """Does any file of the module register ``name`` with a literal string?"""
    pattern = re.compile(r"register_enhancement\(\s*['\"]" + re.escape(name) + r"['\"]\s*\)")
    return any(pattern.search(f.read_text(errors="replace")) for f in _python_files(module))


def system_code_files(name: str, plugin_folders: Iterable[Path]) -> list[Path]:
    """The source files whose change must re-run the system's enhance jobs."""
    files: list[Path] = []
    if name in BUILTIN_CODE:
        for part in BUILTIN_CODE[name]:
            files += _python_files(PACKAGE_DIR / part)
    else:
        modules = [
            file.parent if is_package else file
            for folder in plugin_folders
            for _, file, is_package in plugin_modules(Path(folder))
        ]
        own = [m for m in modules if registers(m, name)]
        for module in own or modules:
            files += _python_files(module)
    return sorted(set(files))
