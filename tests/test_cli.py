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


def test_evaluation_words_and_upstream_spellings_become_config_keys():
    from enhancement.cli import evaluation_command

    ours = evaluation_command(["data_root=D", "submission_dir=S", "system=mine", "--", "-n"])
    assert ours[ours.index("--config") + 1:] == ["data_root=D", "submission_dir=S", "enhancement_name=mine", "-n"]
    upstream = evaluation_command(["paths.enhancement_output_dir=S", "shared.exp_name=mine"])
    assert upstream[upstream.index("--config") + 1:] == ["submission_dir=S", "enhancement_name=mine"]
    with pytest.raises(UsageError, match="submission_dir=<folder> system=<name>"):
        evaluation_command(["data_root=D", "system=mine"])
