import sys

import pytest

from enhancement.cli import UsageError, snakemake_command
from enhancement.plugins import REPO_ROOT


def test_overrides_become_config_and_the_rest_goes_to_snakemake():
    command = snakemake_command(["enhancement_name=example", "enhance_args=example", "--", "-n"])
    assert command[:5] == [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile")]
    assert command[5:] == ["--cores", "all", "--config", "enhancement_name=example", "enhance_args=example", "-n"]


def test_user_cores_are_kept():
    assert "all" not in snakemake_command(["--", "--cores", "3"])


def test_words_that_are_not_key_value_are_rejected():
    with pytest.raises(UsageError, match="expected key=value"):
        snakemake_command(["enhancement_name", "example"])
