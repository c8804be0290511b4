"""Finding and importing plugin folders.

A plugin folder is any directory of Python modules (files or packages).
Each is imported from its file location under a private package name, so the
folder's parent need not be on ``sys.path`` and any spelling of the path
(relative, absolute, trailing slash) works. Importing runs the modules'
``@register_enhancement`` decorators. Plugin code runs with the user's rights.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import sys
import traceback
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

# The clone of the workflow: its Snakefile, config.yaml, enhance_args/ and
# enhancement_plugins/ sit beside the package, which is installed editable from
# it (`pip install -e .`). The Snakefile and run_*.py name their own folder here,
# so a plain (non-editable) install driven from a clone finds them too; used
# without a clone, check_workflow_root says so instead of quietly lacking them.
WORKFLOW_DIR_VARIABLE = "ECHI_WORKFLOW_DIR"
REPO_ROOT = Path(os.environ.get(WORKFLOW_DIR_VARIABLE) or Path(__file__).resolve().parents[2]).resolve()
BUILTIN_PLUGIN_DIR = REPO_ROOT / "enhancement_plugins"
ENV_VAR = "ECHIPLUGINS"


class PluginError(RuntimeError):
    """A plugin folder that cannot be read or a module that fails to import."""


def check_workflow_root(root: Path = REPO_ROOT) -> Path:
    """The clone's folder, or an error saying how to give it."""
    missing = [name for name in ("Snakefile", "enhance_args", "enhancement_plugins") if not (root / name).exists()]
    if missing:
        raise PluginError(
            f"{root} is not a clone of the ECHI enhancement workflow (no {', '.join(missing)}): the "
            f"package at {Path(__file__).resolve().parents[1]} needs the workflow's files beside it. Install "
            f"it editable from the clone (pip install -e .), or set {WORKFLOW_DIR_VARIABLE} to the clone"
        )
    return root


def plugin_dirs(
    environ: Mapping[str, str] | None = None, configured: Iterable[str | Path] = (), base: Path | None = None
) -> list[Path]:
    """The repo's own plugin folder, then the ``plugin_dirs`` of the config
    (``configured``; relative ones relative to ``base``, the folder Snakemake
    was started from), then each folder named in ``ECHIPLUGINS``: absolute,
    without duplicates, so that a job finds them wherever it runs.

    A named folder that does not exist is an error: a typo there would
    otherwise surface later as an 'unknown enhancement_name'.
    """
    environ = os.environ if environ is None else environ
    base = Path.cwd() if base is None else Path(base)
    dirs = [check_workflow_root() / BUILTIN_PLUGIN_DIR.name]
    named = [(entry, "plugin_dirs", "fix the config key plugin_dirs") for entry in configured] + [
        (entry, ENV_VAR, f"fix or unset {ENV_VAR}") for entry in environ.get(ENV_VAR, "").split(os.pathsep)
    ]
    for entry, where, fix in named:
        if not str(entry).strip():
            continue
        folder = (base / Path(entry).expanduser()).resolve()
        if not folder.is_dir():
            raise PluginError(f"{where} names {str(entry)!r}, which is not a folder (resolved to {folder}); {fix}")
        if folder not in dirs:
            dirs.append(folder)
    return dirs


def plugin_modules(folder: Path) -> list[tuple[str, Path, bool]]:
    """(name, file, is_package) for each importable module of ``folder``."""
    found = []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found.append((entry.stem, entry, False))
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            found.append((entry.name, entry / "__init__.py", True))
    return found


def _package_name(folder: Path) -> str:
    digest = hashlib.sha1(str(folder).encode()).hexdigest()[:10]
    return f"echi_plugins_{digest}"


def _ensure_namespace(package: str, folder: Path) -> None:
    """A parent package for the folder's modules, so relative imports work."""
    if package not in sys.modules:
        namespace = ModuleType(package)
        namespace.__path__ = [str(folder)]  # type: ignore[attr-defined]
        sys.modules[package] = namespace


def _where_it_failed(exc: BaseException, file: Path) -> str:
    """'file:line' of the innermost frame in the plugin's own folder."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{exc.filename}:{exc.lineno}"
    frames = traceback.extract_tb(exc.__traceback__)
    folder = str(file.parent if file.name != "__init__.py" else file.parent.parent)
    own = [f for f in frames if f.filename.startswith(folder)]
    frame = own[-1] if own else (frames[-1] if frames else None)
    return f"{frame.filename}:{frame.lineno}" if frame else str(file)


def import_plugin_module(folder: Path, name: str, file: Path, is_package: bool) -> ModuleType:
    """Import one module of a plugin folder; errors name the file and line."""
    package = _package_name(folder)
    _ensure_namespace(package, folder)
    qualified = f"{package}.{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(
        qualified, file, submodule_search_locations=[str(file.parent)] if is_package else None
    )
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import plugin {file}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[qualified]
        raise PluginError(
            f"plugin {file} failed to import at {_where_it_failed(exc, file)}: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def load_plugins(dirs: Iterable[Path] | None = None) -> list[ModuleType]:
    """Import every module of every plugin folder (registering their systems)."""
    modules = []
    for folder in plugin_dirs() if dirs is None else dirs:
        folder = Path(folder).resolve()
        for name, file, is_package in plugin_modules(folder):
            modules.append(import_plugin_module(folder, name, file, is_package))
            log.debug("imported plugin module %s", file)
    return modules
