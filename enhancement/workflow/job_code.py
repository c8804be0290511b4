"""The package code a workflow job runs, and a fingerprint of it.

Every rule that runs package code carries the fingerprint of its job script
and of every module of this package the script imports, transitively, as a
parameter: Snakemake re-runs a job whose parameters changed, so editing the
scoring code re-scores and editing the resampling re-resamples, while code a
job does not import (report-only code for a scoring job) leaves it alone.

Imports are found by reading the source (``ast``), never by importing it:
``import enhancement.x``, ``from enhancement.x import y`` (``y`` counts where
it is a module), relative imports, and imports inside functions (lazy ones)
all count; a module's parent packages (their ``__init__.py``) count too, as
Python runs them. One exception: the built-in systems the package's
``__init__.py`` registers (``enhancement.systems.builtins``, which imports the
baseline) are not followed from there: their code is the passthrough and
baseline systems' own code, counted for their enhance jobs only
(``enhancement.workflow.system_code``).

Only the meaning of the code counts: comments, docstrings and formatting are
left out (``ast`` drops comments and layout; docstrings are removed), so a
12-hour job does not re-run for a comment.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)
PACKAGE_DIR = Path(__file__).resolve().parents[1]
PACKAGE = PACKAGE_DIR.name
# importer module -> modules imported there that are not followed (see above)
NOT_FOLLOWED = {PACKAGE: (f"{PACKAGE}.systems.builtins",)}

# "<sha256 of the bytes> <module name> <is a package>" -> (digest, imports);
# kept in a file between plans where `use_cache_file` names one
_analysed: dict[str, tuple[str, list[str]]] = {}
_cache_file: Path | None = None
# (path, package, size, mtime) -> its key above: each file read once per plan,
# unless modified in the last RACY_NS (file times are as coarse as a few ms)
RACY_NS = 2_000_000_000
_used: set[str] = set()
MAX_CACHED = 2000
_read_in_this_plan: dict[tuple[Path, Path, int, int], str] = {}
_cache_size_read = 0


def _without_docstrings(tree: ast.AST) -> ast.AST:
    """The tree with every module, class and function docstring removed."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
    return tree


def _imports_in(tree: ast.AST, module: str, is_package: bool) -> Iterator[str]:
    """Every module name the tree may import (anywhere in it), relative
    imports made absolute; ``from m import x`` yields m and m.x."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            yield target
            yield from (f"{target}.{alias.name}" for alias in node.names)


def use_cache_file(path: Path) -> None:
    """Keep the parsed files' digests and imports in ``path`` (JSON) between
    plans: parsing is the slow part, and a plan whose code did not change then
    reads only the files' bytes. A missing or unreadable file is started afresh."""
    global _cache_file, _cache_size_read
    _cache_file = Path(path)
    try:
        stored = json.loads(_cache_file.read_text())
        _analysed.update({k: (v[0], list(v[1])) for k, v in stored.items()})
    except (OSError, ValueError, TypeError, IndexError, AttributeError):
        pass
    _cache_size_read = len(_analysed)


def _save_cache() -> None:
    """Write the cache file where new files were parsed (atomically: plans may run side by side)."""
    global _cache_size_read
    if _cache_file is None or len(_analysed) == _cache_size_read:
        return
    try:
        _cache_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=_cache_file.parent, delete=False, prefix=f".{_cache_file.name}."
        ) as tmp:
            # bounded: past MAX_CACHED entries, only what this plan used is kept
            kept = _analysed if len(_analysed) <= MAX_CACHED else {k: _analysed[k] for k in _used}
            json.dump(kept, tmp)
        os.replace(tmp.name, _cache_file)
        _cache_size_read = len(_analysed)
    except OSError as exc:  # only a cache: the next plan parses again
        log.debug("code fingerprint cache %s not written: %s", _cache_file, exc)


def _analyse(path: Path, package_dir: Path) -> tuple[str, list[str]]:
    """A file's normalised digest and the modules it imports, worked out once
    per content (cached on its bytes' sha256: parsing is the slow part)."""
    stat = path.stat()
    seen = (path, package_dir, stat.st_size, stat.st_mtime_ns)
    if seen in _read_in_this_plan:
        return _analysed[_read_in_this_plan[seen]]
    source = path.read_bytes()
    module, is_package = _module_name(path, package_dir)
    key = f"{hashlib.sha256(source).hexdigest()} {module} {is_package}"
    _used.add(key)
    if time.time_ns() - stat.st_mtime_ns > RACY_NS:  # an edit within the clock's tick has the same mtime
        _read_in_this_plan[seen] = key
    if key not in _analysed:
        try:
            tree = ast.parse(source, filename=str(path)) if path.suffix == ".py" else None
        except (SyntaxError, ValueError):  # not valid Python: its bytes count
            tree = None
        if tree is None:
            _analysed[key] = (hashlib.sha256(source).hexdigest(), [])
        else:
            imports = list(dict.fromkeys(_imports_in(tree, module, is_package)))
            normalised = ast.dump(_without_docstrings(tree)).encode()
            _analysed[key] = (hashlib.sha256(normalised).hexdigest(), imports)
    return _analysed[key]


def normalised_digest(path: Path) -> str:
    """The sha256 of what of a file counts as a change: for Python, its syntax
    tree without docstrings (comments and formatting are not in it); other
    files, their bytes."""
    return _analyse(Path(path).resolve(), PACKAGE_DIR)[0]


def imported_names(path: Path, package_dir: Path = PACKAGE_DIR) -> list[str]:
    """Every module name the file may import, relative imports made absolute."""
    return _analyse(Path(path).resolve(), package_dir.resolve())[1]


def _name_of(path: Path) -> str:
    """A file's name in the fingerprint: from the package's parent where it is
    in the package (a moved checkout keeps its fingerprints), else its name."""
    try:
        return path.relative_to(PACKAGE_DIR.parent).as_posix()
    except ValueError:
        return path.name


def code_fingerprint(files: Iterable[Path]) -> str:
    """sha256 over the files' names and normalised sources (16 hex digits)."""
    digest = hashlib.sha256()
    for path in sorted({Path(f) if Path(f).is_absolute() else Path(f).resolve() for f in files}):
        digest.update(f"{_name_of(path)}\0{normalised_digest(path)}\0".encode())
    return digest.hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def module_file(module: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The file of a module of the package (``enhancement.a.b``), None where the
    name is not one (another package, or an attribute of a module)."""
    parts = module.split(".")
    if parts[0] != package_dir.name:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path, package_dir: Path) -> tuple[str, bool]:
    """(dotted name, is a package) of a file of the package; ('__main__', False)
    outside it (both paths resolved)."""
    try:
        parts = list(path.relative_to(package_dir).with_suffix("").parts)
    except ValueError:
        return "__main__", False
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join([package_dir.name, *parts]), is_package


def imported_files(roots: Iterable[Path], package_dir: Path = PACKAGE_DIR) -> list[Path]:
    """The roots and every file of the package they import, transitively."""
    package_dir = package_dir.resolve()
    seen: set[Path] = set()
    todo = [Path(r).resolve() for r in roots]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        importer, _ = _module_name(path, package_dir)
        skipped = NOT_FOLLOWED.get(importer, ()) if package_dir.name == PACKAGE else ()
        for name in imported_names(path, package_dir):
            if any(name == s or name.startswith(s + ".") for s in skipped):
                continue
            parts = name.split(".")
            # `a.b.c` runs a/__init__.py and a/b/__init__.py first
            for k in range(1, len(parts) + 1):
                file = module_file(".".join(parts[:k]), package_dir)
                if file is not None:
                    todo.append(file)
    return sorted(seen)


def job_code_fingerprint(script: Path, extra: Iterable[Path] = ()) -> str:
    """The fingerprint of a job script, the package code it imports and any
    ``extra`` files: the ``code`` parameter of the script's rule."""
    fingerprint = code_fingerprint([*imported_files([script]), *extra])
    _save_cache()
    return fingerprint
