"""environment.yml (each rule's conda environment, and conda users' own) must
describe the same environment as pyproject.toml, and the job scripts must find
the package in it without the project being installed."""

import re
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
import yaml

from enhancement.systems.plugins import REPO_ROOT


def normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = {normalise(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = {normalise(r) for r in pip}
    assert listed == wanted
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python="))
    assert python == "python=3.11" and project["requires-python"] == ">=3.11"
    # Snakemake creates it from a copy under .snakemake/conda/: a relative `-e .` would not work
    assert not any(r.startswith("-e") for r in pip)


def test_job_scripts_import_the_package_where_it_is_not_installed(tmp_path: Path):
    """As in a rule's conda environment: the packages, not this project. Snakemake
    puts a job script's folder on sys.path, and workflow_scripts/enhancement is a
    link to the package. `python -S` skips the .pth files, so the editable
    install of this virtualenv is not seen."""
    scripts = REPO_ROOT / "workflow_scripts"
    site_packages = sysconfig.get_paths()["purelib"]
    code = (
        "import sys; sys.path[:] = [p for p in sys.path if 'site-packages' not in p]"
        f" + [{site_packages!r}, {str(scripts)!r}];"
        "import enhancement.systems.enhance, enhancement.data.audio, enhancement.data.submission; print(enhancement.__file__)"
    )
    result = subprocess.run(
        [sys.executable, "-S", "-c", code], capture_output=True, text=True, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(scripts / "enhancement" / "__init__.py")
    # and without the link it would fail: the check above is not vacuous
    code_without = code.replace(f", {str(scripts)!r}", "")
    result = subprocess.run(
        [sys.executable, "-S", "-c", code_without],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0 and "No module named 'enhancement'" in result.stderr


def test_echi_no_apt_installs_nothing_and_says_how_to_run_the_tests_later(monkeypatch):
    """make test as root apt-gets slurm, munge and chromium; ECHI_NO_APT=1 is the way out."""
    from apt_packages import AptUnavailable, apt_install

    monkeypatch.setenv("ECHI_NO_APT", "1")
    monkeypatch.setattr("shutil.which", lambda name: pytest.fail(f"looked for {name}"))
    with pytest.raises(
        AptUnavailable,
        match=r"^no Chromium; ECHI_NO_APT=1, so no apt-get install chromium: .*"
        r"make test-system",
    ):
        apt_install(("chromium",), "no Chromium")
