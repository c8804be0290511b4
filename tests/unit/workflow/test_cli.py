import sys

import pytest

from enhancement.systems.plugins import REPO_ROOT
from enhancement.workflow.cli import UsageError, snakemake_command


def test_overrides_become_config_and_the_rest_goes_to_snakemake():
    command = snakemake_command(["enhancement_name=example", "enhance_args=example", "--", "-n"])
    assert command[:5] == [sys.executable, "-m", "snakemake", "--snakefile", str(REPO_ROOT / "Snakefile")]
    assert command[5:] == ["--cores", "all", "-n", "--config", "enhancement_name=example", "enhance_args=example"]


@pytest.mark.parametrize("after", [["compare"], ["resample", "--dry-run"], ["--forcerun", "enhance", "--", "all"]])
def test_targets_after_the_separator_stay_targets(after):
    """`-- compare` was swallowed by --config (a traceback): Snakemake's own parser says what it sees."""
    from snakemake.cli import get_argument_parser

    command = snakemake_command(["enhancement_name=example", "--", *after])
    parsed = get_argument_parser().parse_args(command[5:])
    targets = [w for w in after if not w.startswith("-") and w != "enhance"]
    assert sorted(parsed.targets) == sorted(targets)
    assert parsed.config == ["enhancement_name=example"]


@pytest.mark.parametrize(
    "theirs",
    [
        ["--config", "devices=[ha]", "report_spectrograms=0"],
        ["-C", "devices=[ha]", "report_spectrograms=0"],
        ["--config=devices=[ha]", "--config", "report_spectrograms=0"],
    ],
)
def test_a_config_after_the_separator_is_merged_not_dropped(theirs):
    """Snakemake keeps only the last --config: the user's, after '--', was silently
    dropped by ours (a test asking for no scoring got scoring)."""
    from snakemake.cli import get_argument_parser

    command = snakemake_command(["enhancement_name=example", "--", *theirs, "--cores", "1", "resample"])
    parsed = get_argument_parser().parse_args(command[5:])
    assert parsed.config == ["enhancement_name=example", "devices=[ha]", "report_spectrograms=0"]
    assert parsed.targets == ["resample"] and parsed.cores == 1
    assert command.count("--config") == 1


def test_a_config_key_given_twice_with_two_values_is_refused():
    with pytest.raises(UsageError, match=r"config key 'devices' is given twice \('\[aria\]' and '\[ha\]'\)"):
        snakemake_command(["devices=[aria]", "--", "--config", "devices=[ha]"])
    assert snakemake_command(["devices=[ha]", "--", "--config", "devices=[ha]"]).count("devices=[ha]") == 1


@pytest.mark.parametrize("program", ["run_enhancement.py", "run_evaluation.py"])
def test_help_lists_every_config_key_with_its_default(program):
    import subprocess

    import yaml

    result = subprocess.run([sys.executable, str(REPO_ROOT / program), "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: python {program}")
    schema = yaml.safe_load((REPO_ROOT / "enhancement/config.schema.yaml").read_text())
    listed = [
        line.split(" = ")[0].strip()
        for line in result.stdout.splitlines()
        if line.startswith("  ") and " = " in line and not line.startswith("      ")
    ]
    assert listed == list(schema["properties"])
    assert "  metrics = full\n" in result.stdout and "  compare_systems = (empty)" in result.stdout
    assert "snakemake" not in result.stderr  # nothing was run


def test_user_cores_are_kept():
    assert "all" not in snakemake_command(["--", "--cores", "3"])


def test_words_that_are_not_key_value_are_rejected():
    with pytest.raises(UsageError, match="expected key=value"):
        snakemake_command(["enhancement_name", "example"])


def test_evaluation_words_and_upstream_spellings_become_config_keys():
    from enhancement.workflow.cli import evaluation_command

    ours = evaluation_command(["data_root=D", "submission_dir=S", "system=mine", "--", "-n"])
    assert ours[ours.index("--config") - 1 :] == [
        "-n",
        "--config",
        "data_root=D",
        "submission_dir=S",
        "enhancement_name=mine",
    ]
    upstream = evaluation_command(["paths.enhancement_output_dir=S", "shared.exp_name=mine"])
    assert upstream[upstream.index("--config") + 1 :] == ["submission_dir=S", "enhancement_name=mine"]
    with pytest.raises(UsageError, match="submission_dir=<folder> system=<name>"):
        evaluation_command(["data_root=D", "system=mine"])


def test_run_evaluation_scores_every_dataset_it_is_given():
    """datasets=[eval] was only validated: evaluate_datasets stayed [dev]."""
    from enhancement.workflow.cli import evaluation_command

    def config(argv):
        command = evaluation_command(argv)
        return command[command.index("--config") + 1 :]

    assert config(["datasets=[eval]", "submission_dir=S", "system=mine"]) == [
        "datasets=[eval]",
        "submission_dir=S",
        "enhancement_name=mine",
        "evaluate_datasets=[eval]",
    ]
    given = config(["datasets=[dev,eval]", "evaluate_datasets=[dev]", "submission_dir=S", "system=mine"])
    assert given == ["datasets=[dev,eval]", "evaluate_datasets=[dev]", "submission_dir=S", "enhancement_name=mine"]
    assert "evaluate_datasets" not in " ".join(config(["submission_dir=S", "system=mine"]))


def test_a_dataset_with_references_left_out_by_evaluate_datasets_is_named_once():
    from enhancement.evaluation.inputs import unscored_note

    assert unscored_note(["dev", "eval"], ["dev"], ["dev", "eval"]) == (
        "eval: references found but not scored, as evaluate_datasets is [dev]; to score it, "
        "--config evaluate_datasets=[dev,eval]"
    )
    assert unscored_note(["dev", "eval"], [], ["dev", "eval"]).startswith("dev, eval: references found")
    assert unscored_note(["dev", "eval"], ["dev"], ["dev"]) is None  # eval has no references: nothing to score
    assert unscored_note(["eval"], ["eval"], ["eval"]) is None
