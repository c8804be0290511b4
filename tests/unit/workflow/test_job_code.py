"""The code fingerprint of a job: its script and the package modules it imports."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from conftest import REPO

from enhancement.workflow.job_code import code_fingerprint, imported_files, job_code_fingerprint


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture()
def package(tmp_path: Path) -> Path:
    """A small package named like the real one, and a job script beside it."""
    pkg = tmp_path / "enhancement"
    write(pkg / "__init__.py", "from enhancement.systems import builtins as _b\nfrom enhancement.registry import X\n")
    write(pkg / "registry.py", "X = 1\n")
    write(pkg / "systems" / "__init__.py", "")
    write(pkg / "systems" / "builtins.py", "from enhancement.heavy import model\n")
    write(pkg / "heavy.py", "model = 'weights'\n")
    write(
        pkg / "audio.py",
        '''\
        """Audio helpers."""
        from enhancement.maths import scale

        GAIN = 2  # the gain


        def resample(x):
            """Resample."""
            from .lazy import helper  # imported only when called
            return helper(scale(x, GAIN))
        ''',
    )
    write(pkg / "maths.py", "def scale(x, g):\n    return x * g\n")
    write(pkg / "lazy.py", "def helper(x):\n    return x\n")
    write(pkg / "unused.py", "Y = 3\n")
    write(pkg / "sub" / "__init__.py", "")
    write(pkg / "sub" / "deep.py", "from ..maths import scale\nfrom . import near\n")
    write(pkg / "sub" / "near.py", "Z = 1\n")
    write(tmp_path / "scripts" / "job.py", "from enhancement.audio import resample\n")
    return pkg


def names(files: list[Path], root: Path) -> set[str]:
    return {f.relative_to(root).as_posix() for f in files}


def test_closure_follows_absolute_relative_lazy_imports_and_parent_packages(package):
    files = imported_files([package.parent / "scripts" / "job.py"], package)
    assert names(files, package.parent) == {
        "scripts/job.py",
        "enhancement/__init__.py",
        "enhancement/registry.py",
        "enhancement/systems/__init__.py",  # the package's __init__ imports from it
        "enhancement/audio.py",
        "enhancement/maths.py",
        "enhancement/lazy.py",
    }
    deep = imported_files([package / "sub" / "deep.py"], package)
    assert {"enhancement/maths.py", "enhancement/sub/near.py", "enhancement/sub/__init__.py"} <= names(
        deep, package.parent
    )


def test_the_builtin_systems_are_not_followed_from_the_package_init_but_are_when_imported(package):
    """The package's __init__ registers the built-in systems: their code is the
    systems' own (system_code), not every job's; a module that imports them
    explicitly runs them."""
    script = write(package.parent / "scripts" / "uses_builtins.py", "from enhancement.systems.builtins import x\n")
    assert "enhancement/heavy.py" not in names(
        imported_files([package.parent / "scripts/job.py"], package), package.parent
    )
    assert {"enhancement/systems/builtins.py", "enhancement/heavy.py"} <= names(
        imported_files([script], package), package.parent
    )


def fingerprint(package: Path) -> str:
    return code_fingerprint(imported_files([package.parent / "scripts" / "job.py"], package))


@pytest.mark.parametrize(
    "edit",
    [
        ("# the gain", "# the gain, doubled in 2024"),
        ('"""Resample."""', '"""Resample to the rate the system wants."""'),
        ("GAIN = 2", "GAIN   =   (2)"),
        ('"""Audio helpers."""\n', ""),
    ],
)
def test_comments_docstrings_and_formatting_do_not_count(package, edit):
    before = fingerprint(package)
    audio = package / "audio.py"
    assert edit[0] in audio.read_text()
    audio.write_text(audio.read_text().replace(*edit))
    assert fingerprint(package) == before


@pytest.mark.parametrize(
    "file, edit",
    [
        ("audio.py", ("GAIN = 2", "GAIN = 3")),  # a constant of the module itself
        ("maths.py", ("x * g", "x * g * 0.5")),  # a module it imports
        ("lazy.py", ("return x", "return -x")),  # imported inside a function
        ("registry.py", ("X = 1", "X = 2")),  # run by the package's __init__
    ],
)
def test_a_change_in_the_code_the_job_runs_changes_it(package, file, edit):
    before = fingerprint(package)
    path = package / file
    path.write_text(path.read_text().replace(*edit))
    assert fingerprint(package) != before


@pytest.mark.parametrize("file", ["unused.py", "heavy.py", "systems/builtins.py", "sub/near.py"])
def test_a_change_in_code_the_job_does_not_import_does_not(package, file):
    before = fingerprint(package)
    (package / file).write_text("CHANGED = True\n")
    assert fingerprint(package) == before


def test_not_valid_python_counts_by_its_bytes(tmp_path):
    broken = write(tmp_path / "broken.py", "def f(:\n")
    before = code_fingerprint([broken])
    broken.write_text("def f(:  # a comment\n")
    assert code_fingerprint([broken]) != before


SCRIPTS = REPO / "workflow_scripts"


def repo_closure(script: str) -> set[str]:
    return names(imported_files([SCRIPTS / f"{script}.py"]), REPO)


def test_the_workflows_jobs_depend_on_the_code_they_run():
    """Scoring depends on the metrics, not on the report's HTML and figures;
    resampling on enhancement/data/audio.py; no job but the systems' own on the
    built-in systems' code."""
    scoring = repo_closure("score")
    assert "enhancement/evaluation/metrics/perceptual.py" in scoring
    assert "enhancement/report/figures.py" not in scoring
    assert "enhancement/report/figures.py" in repo_closure("evaluation_reports")
    assert "enhancement/report/figures.py" in repo_closure("listen")
    assert "enhancement/data/audio.py" in repo_closure("resample")
    assert "enhancement/evaluation/jobs.py" not in repo_closure("resample")
    assert {"enhancement/systems/enhance.py", "enhancement/systems/supervise.py"} <= repo_closure("enhance")
    for script in SCRIPTS.glob("*.py"):
        assert not {n for n in repo_closure(script.stem) if "baseline" in n or n.endswith("builtins.py")}


def test_a_moved_checkout_keeps_its_fingerprints(tmp_path):
    """Names in the fingerprint are relative to the checkout: a copy of the
    workflow elsewhere re-runs nothing."""
    import shutil
    import subprocess
    import sys

    for part in ("enhancement", "workflow_scripts"):
        shutil.copytree(REPO / part, tmp_path / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    code = (
        "from pathlib import Path; from enhancement.workflow.job_code import job_code_fingerprint; "
        "print(job_code_fingerprint(Path('workflow_scripts/score.py')))"
    )
    moved = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(tmp_path)},
    ).stdout.strip()
    assert moved == job_code_fingerprint(SCRIPTS / "score.py")


def test_the_cache_file_between_plans_gives_the_same_fingerprints(tmp_path):
    """Plans keep parsed files in a cache file (keyed by content, so an edit is
    never served from it); an unreadable one is started afresh."""
    import subprocess
    import sys

    cache = tmp_path / "cache.json"
    code = (
        "import sys; from pathlib import Path; from enhancement.workflow.job_code import job_code_fingerprint, "
        "use_cache_file; use_cache_file(Path(sys.argv[1])); "
        "print(job_code_fingerprint(Path(sys.argv[2])))"
    )

    def plan() -> str:
        return subprocess.run(
            [sys.executable, "-c", code, str(cache), str(SCRIPTS / "score.py")],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    expected = job_code_fingerprint(SCRIPTS / "score.py")
    assert plan() == expected and cache.is_file()
    assert "enhancement.evaluation.jobs" in cache.read_text()
    assert plan() == expected
    cache.write_text("{not json")
    assert plan() == expected
