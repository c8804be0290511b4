"""Shared fixtures: the repo, the synthetic demo data, and a real snakemake runner."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from snakemake_server import snakemake_command

REPO = Path(__file__).resolve().parent.parent
if os.environ.get("PYTEST_XDIST_WORKER"):
    # two workers on two cores: a library's thread pool (torch's, BLAS's) that spins on a
    # core the other worker holds costs more than it gains (set before anything imports them)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
# Fixtures outside the repository (the baseline's full-size references); ECHI_SHARED overrides.
SHARED = Path(os.environ.get("ECHI_SHARED", REPO.parent / "shared"))
STOI_SCORING = REPO / "tests" / "config.stoi.yaml"  # STOI only: values are other tests' job
# config for runs whose test looks at neither scores nor the report's figures and players
# (each figure and page is a job: they are most of a short run's time)
QUICK_RUN = ("evaluate_datasets=[]", "report_spectrograms=0")


# A user's plugin, as docs/writing-a-system.md writes one: a gain on channel 0, its
# name a format field (tests register it under several names).
GAIN_PLUGIN = """
from enhancement.registry import register_enhancement

@register_enhancement("{name}")
class Plugin:
    def __init__(self, gain: float) -> None:
        self.gain = gain

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        return device_audio[0] * self.gain
"""


class Snakemake:
    """Runs the real workflow in its own working directory."""

    def __init__(self, workdir: Path, snakefile: Path = REPO / "Snakefile") -> None:
        self.workdir = workdir
        self.snakefile = snakefile  # another: a copy of the workflow, edited by a test

    def __call__(
        self, *args: str, env: dict | None = None, check: bool = True, cores: int = 2
    ) -> subprocess.CompletedProcess:
        command = [
            "--snakefile",
            str(self.snakefile),
            "--directory",
            str(self.workdir),
            "--cores",
            str(cores),
            f"--configfile={STOI_SCORING}",
            *args,
        ]  # '=': a target after it is not a configfile
        result = snakemake_command(command, self.workdir, {**os.environ, **(env or {})})
        if check and result.returncode != 0:
            raise AssertionError(
                f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
            )
        return result

    def planned_jobs(self, *args: str, env: dict | None = None) -> dict[str, int]:
        """Rule name -> job count of a dry run ('Job stats' table)."""
        result = self(*args, "--dry-run", env=env)
        text = result.stdout + result.stderr
        if "Nothing to be done" in text:
            return {}
        table = text.split("Job stats:", 1)[1].split("total", 1)[0]
        return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)\s*$", table, re.M)}


# what a checkout of the workflow holds, for tests that plan with a copy of it
WORKFLOW_PARTS = (
    "Snakefile",
    "config.yaml",
    "environment.yml",
    "rules",
    "workflow_scripts",
    "enhancement",
    "enhance_args",
    "enhancement_plugins",
)


def copy_of_the_workflow(folder: Path) -> Path:
    """The workflow copied into ``folder`` as a clone elsewhere would have it (a
    test may edit it; the repository's own files are never touched); its Snakefile."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in WORKFLOW_PARTS:
        source = REPO / part
        if source.is_dir():
            shutil.copytree(source, folder / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, folder / part)
    return folder / "Snakefile"


# The shared data files that test folders hold as hard links (linked_copy), with their
# (size, mtime) when linked: a test writing through a link would change them for every
# test, so each test ends by checking them.
LINKED: dict[Path, tuple[int, int]] = {}


def _state(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def linked_copy(source: Path, target: Path, under: tuple[str, ...] = (".",)) -> Path:
    """``source`` copied to ``target`` with mtimes kept, except that the .wav files
    below the ``under`` folders are hard links to the source's (150 MB of demo
    audio a test only reads): call ``own`` on one before changing it in place."""
    roots = [(source / folder).resolve() for folder in under]

    def place(src: str, dst: str) -> None:
        path = Path(src)
        if path.suffix == ".wav" and any(path.resolve().is_relative_to(root) for root in roots):
            LINKED.setdefault(path.resolve(), _state(path))
            os.link(path, dst)
        else:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=place)
    return target


def own(path: Path) -> Path:
    """A file of a linked copy made this test's own (a copy, mtime kept), so that
    changing it in place leaves the shared file alone."""
    if path.stat().st_nlink > 1:
        mine = path.with_name(path.name + ".own")
        shutil.copy2(path, mine)
        os.replace(mine, path)
    return path


@pytest.fixture(autouse=True)
def _linked_files_unchanged(request: pytest.FixtureRequest):
    yield
    for path in [path for path in LINKED if not path.exists()]:
        del LINKED[path]  # a test's own folder, removed with it
    changed = [path for path, state in LINKED.items() if _state(path) != state]
    for path in changed:
        LINKED[path] = _state(path)  # said once
    if changed:
        pytest.fail(
            f"shared test data changed in place through a hard link (found after {request.node.nodeid}): "
            f"{', '.join(map(str, changed))}; a test must call own(path) before writing to a linked_copy file"
        )


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """A folder built once per test run and shared by every pytest-xdist worker: the
    first to ask builds it (under a file lock), the others wait and read it. Without
    xdist it is an ordinary session-scoped folder."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the controller's folder, around the workers' own
    folder, done = base / name, base / f"{name}.done"
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():  # a worker that failed half-way left no mark: build again
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo dataset written once per test run (read-only by convention)."""
    from enhancement.data.demo import write_demo_dataset

    return built_once(tmp_path_factory, "demo", lambda folder: write_demo_dataset(folder / "demo_data")) / "demo_data"


@pytest.fixture()
def workdir(tmp_path: Path, demo_data: Path) -> Path:
    """A fresh working directory whose demo_data is a linked copy of the session's."""
    linked_copy(demo_data, tmp_path / "demo_data")
    return tmp_path


@pytest.fixture()
def snakemake(workdir: Path) -> Snakemake:
    return Snakemake(workdir)


@pytest.fixture()
def clean_registry():
    """Undo registrations and plugin imports made by a test."""
    from enhancement.registry import enhancement_options, enhancement_sources

    saved = dict(enhancement_options), dict(enhancement_sources)
    modules = set(sys.modules)
    yield
    for live, old in zip((enhancement_options, enhancement_sources), saved):
        live.clear()
        live.update(old)
    for name in set(sys.modules) - modules:
        if name.startswith("echi_plugins_"):
            del sys.modules[name]


@pytest.fixture(scope="session")
def passthrough_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One full passthrough run, generating the demo data through its rule
    (read-only by convention: tests that change it use ``finished``)."""

    def build(workdir: Path) -> None:
        result = Snakemake(workdir)()
        assert "no ha recording" in result.stdout + result.stderr

    return built_once(tmp_path_factory, "passthrough", build)


@pytest.fixture(scope="session")
def compared(tmp_path_factory: pytest.TempPathFactory, passthrough_run: Path) -> Snakemake:
    """The passthrough run, then example on top, both scored with the quick set as
    ``make demo`` scores, then the report (read-only by convention: the report's
    tests and its browser tests share it)."""

    def build(folder: Path) -> None:
        shutil.copytree(passthrough_run, folder / "run", symlinks=True)
        run = Snakemake(folder / "run")
        run("--config", "enhancement_name=example", "metrics=quick")
        run("--config", "enhancement_name=example", "metrics=quick", "--report", "report.html")

    return Snakemake(built_once(tmp_path_factory, "compared", build) / "run")


@pytest.fixture()
def finished(tmp_path: Path, passthrough_run: Path) -> Snakemake:
    """A private copy of the finished passthrough run (mtimes kept; its demo audio and
    resampled audio linked: see ``own``)."""
    workdir = tmp_path / "run"
    linked_copy(passthrough_run, workdir, under=("demo_data", "work/resampled"))
    return Snakemake(workdir)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`fast`: the unit tests not marked slow (make test-fast; make test runs them first)."""
    unit = Path(__file__).parent / "unit"
    for item in items:
        if item.path.is_relative_to(unit) and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.fast)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Under --dist loadgroup, a grouped test's node id carries its group: where it does
    not, xdist spreads the group over the workers (two SLURM clusters on one machine,
    the golden scoring twice), so the run stops instead."""
    if session.config.getoption("dist", "no") != "loadgroup" or not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    lost = [item.nodeid for item in session.items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more): this pytest and "
            "pytest-xdist do not work together (see pyproject.toml); run with JOBS=1 or pip install 'pytest<9.2'"
        )
