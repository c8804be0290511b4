"""Mistakes in the config or the system's args are refused when the workflow
plans (``--dry-run`` included), once, before any file is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import GAIN_PLUGIN, QUICK_RUN

from enhancement.systems.args import load_args
from enhancement.systems.plugins import BUILTIN_PLUGIN_DIR, PluginError, plugin_dirs
from enhancement.workflow.plan_checks import (
    PlanError,
    check_baseline_files,
    check_earliest_start,
    check_metrics,
    system_plugin_dirs,
)


def gain_folder(parent: Path) -> Path:
    folder = parent / "my_plugins"
    folder.mkdir(parents=True)
    (folder / "gain.py").write_text(GAIN_PLUGIN.format(name="gain"))
    (folder / "gain.yaml").write_text("name: gain\nargs: {gain: 0.5}\n")
    return folder


def output_of(result) -> str:
    return result.stdout + result.stderr


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder``: (size, mtime in ns)."""
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---- the checks themselves ---------------------------------------------------------------


@pytest.mark.parametrize(
    "metrics, message",
    [
        (
            ["bogus"],
            "unknown metric 'bogus': use 'full', 'quick', or names from ['dnsmos', 'pesq', 'pysepm', "
            "'signal_metric', 'stoi'] or their keys",
        ),
        (["utmos"], "metric 'utmos' needs model weights downloaded at run time"),
        ("nosuch", "unknown metric 'nosuch'"),
    ],
)
def test_unknown_metric_is_refused_naming_the_valid_ones(metrics, message):
    with pytest.raises(PlanError, match="config metrics=") as err:
        check_metrics(metrics)
    assert message in str(err.value)


@pytest.mark.parametrize("metrics", ["full", "quick", ["pesq", "stoi"], ["pysepm_ncm"], ["pseudo_mos"]])
def test_known_metrics_pass(metrics):
    check_metrics(metrics)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_earliest_start_that_is_not_finite_is_refused(value):
    with pytest.raises(PlanError, match="evaluation_earliest_start_s=.* is not a finite number of seconds"):
        check_earliest_start(value)
    check_earliest_start(0)
    check_earliest_start(30.5)


def test_registered_names_are_found_without_importing_the_plugin(tmp_path, clean_registry):
    from enhancement.registry import enhancement_options

    folder = gain_folder(tmp_path)
    (folder / "broken.py").write_text("import not_installed_anywhere\n")  # importing it would fail
    dirs = [BUILTIN_PLUGIN_DIR, folder]
    assert system_plugin_dirs("gain", dirs) == [folder]
    assert system_plugin_dirs("example", dirs) == [BUILTIN_PLUGIN_DIR]
    assert system_plugin_dirs("passthrough", dirs) == system_plugin_dirs("baseline", dirs) == []
    assert "gain" not in enhancement_options


def test_a_name_nothing_registers_names_the_folders_searched(tmp_path):
    folder = gain_folder(tmp_path)
    with pytest.raises(PlanError) as err:
        system_plugin_dirs("gian", [BUILTIN_PLUGIN_DIR, folder])
    message = str(err.value)
    for needle in (
        "unknown enhancement_name 'gian'",
        str(folder / "gain.py"),
        "example.py",
        "builtins.py",
        f"  {folder}\n",
        f"  {BUILTIN_PLUGIN_DIR}\n",
        "--config plugin_dirs=[<folder>]",
        "ECHIPLUGINS",
    ):
        assert needle in message


def test_a_plugin_registering_a_computed_name_is_not_refused(tmp_path):
    folder = tmp_path / "computed"
    folder.mkdir()
    (folder / "many.py").write_text(
        "from enhancement.registry import register_enhancement\n"
        "for n in ('a', 'b'):\n    register_enhancement(n)(type(n, (), {}))\n"
    )
    assert system_plugin_dirs("b", [BUILTIN_PLUGIN_DIR, folder]) == [BUILTIN_PLUGIN_DIR, folder]


def test_plugin_dirs_of_the_config_are_absolute_and_before_echiplugins(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    found = plugin_dirs({"ECHIPLUGINS": str(b)}, configured=["a", str(b)], base=tmp_path)
    assert found == [BUILTIN_PLUGIN_DIR, a, b]
    with pytest.raises(PluginError, match=r"plugin_dirs names 'nothere', which is not a folder .*plugin_dirs"):
        plugin_dirs({}, configured=["nothere"], base=tmp_path)


def test_missing_baseline_files_are_listed_once_each(tmp_path):
    args = tmp_path / "baseline.yaml"
    (tmp_path / "ha_config.yaml").write_text("x")
    args.write_text(
        f"name: baseline\nargs: {{config_path: '{tmp_path}/{{device}}_config.yaml', "
        f"ckpt_path: '{tmp_path}/{{device}}_baseline.pt'}}\n"
    )
    with pytest.raises(PlanError) as err:
        check_baseline_files(load_args(args), ["aria", "ha"])
    message = str(err.value)
    for missing in ("aria_config.yaml (config_path", "aria_baseline.pt (ckpt_path", "ha_baseline.pt (ckpt_path"):
        assert message.count(f"{tmp_path}/{missing}") == 1
    assert str(args) in message and "CHiME9-ECHI/CHiME9-ECHI" in message
    assert f"{tmp_path}/ha_config.yaml" not in message


def test_a_job_imports_the_plugin_folders_it_is_given(tmp_path, clean_registry, monkeypatch):
    from unit.systems.test_enhance import make_job

    from enhancement.systems.enhance import write_partner_outputs

    monkeypatch.delenv("ECHIPLUGINS", raising=False)
    folder = gain_folder(tmp_path / "elsewhere")
    job = make_job(tmp_path)
    write_partner_outputs(**job, enhancement_name="gain", args_yaml=folder / "gain.yaml", plugin_folders=[str(folder)])
    assert all(Path(p).is_file() for p in job["outputs"].values())


# ---- through the workflow: refused by a dry run, nothing written ------------------------------


def refused(snakemake, *config: str, env: dict | None = None, dry: bool = True) -> str:
    result = snakemake("--config", *config, *(["--dry-run"] if dry else []), env=env, check=False)
    text = output_of(result)
    assert result.returncode != 0, text
    return text


@pytest.mark.slow
@pytest.mark.parametrize(
    "config, needles",
    [
        ("metrics=[bogus]", ("config metrics=['bogus']: unknown metric 'bogus'", "'signal_metric', 'stoi'")),
        ("metrics=[utmos]", ("metric 'utmos' needs model weights downloaded at run time",)),
        ("evaluation_earliest_start_s=nan", ("evaluation_earliest_start_s=nan is not a finite number",)),
        ("evaluation_earliest_start_s=inf", ("evaluation_earliest_start_s=inf is not a finite number",)),
        (
            "enhancement_name=nosuch",
            ("unknown enhancement_name 'nosuch'", "enhancement_plugins\n", "--config plugin_dirs=[<folder>]"),
        ),
    ],
    ids=["metrics-bogus", "metrics-utmos", "earliest-nan", "earliest-inf", "name-nosuch"],
)
def test_config_mistakes_are_refused_by_a_dry_run(snakemake, config, needles):
    text = refused(snakemake, config)
    for needle in needles:
        assert needle in text
    assert not (snakemake.workdir / "work").exists()


@pytest.mark.slow
def test_missing_baseline_checkpoints_are_refused_once_by_a_dry_run(snakemake):
    text = refused(snakemake, "enhancement_name=baseline")
    assert text.count("checkpoints/aria_baseline.pt (ckpt_path") == 1
    assert "checkpoints/ha_config.yaml (config_path" in text and "CHiME9-ECHI/CHiME9-ECHI" in text
    assert not (snakemake.workdir / "work").exists()


@pytest.mark.slow
def test_zero_memory_in_the_args_yaml_is_refused_by_a_dry_run(snakemake):
    args = snakemake.workdir / "zero.yaml"
    args.write_text("name: passthrough\nargs: {}\nresources: {mem_mb: 0}\n")
    text = refused(snakemake, f"enhance_args={args}")
    assert f"args yaml {args}: resources.mem_mb must be a whole number >= 1 (MB), got 0" in text
    assert not (snakemake.workdir / "work").exists()


@pytest.mark.slow
def test_forgotten_echiplugins_is_refused_and_the_outputs_survive(finished, monkeypatch):
    """A run with the plugin, then one without ECHIPLUGINS: refused when planning,
    every file of the earlier runs as it was (a failing job deleted six partner
    outputs); `plugin_dirs` then finds the plugin without the variable, also in a job."""
    workdir = finished.workdir
    folder = gain_folder(workdir)
    config = ("enhancement_name=gain", "enhance_args=my_plugins/gain.yaml", "devices=[aria]", *QUICK_RUN)
    finished("--config", *config, env={"ECHIPLUGINS": str(folder)})
    partners = sorted((workdir / "work/partners/gain/dev").glob("*.wav"))
    assert len(partners) == 6
    before = snapshot(workdir / "work")

    monkeypatch.delenv("ECHIPLUGINS", raising=False)
    for dry in (True, False):
        text = refused(finished, *config, dry=dry)
        assert "unknown enhancement_name 'gain'" in text and f"  {BUILTIN_PLUGIN_DIR}\n" in text
        assert snapshot(workdir / "work") == before

    # the config key instead of the variable: nothing to re-run, and a job finds the plugin
    assert "Nothing to be done" in output_of(finished("--config", *config, "plugin_dirs=[my_plugins]", "--dry-run"))
    partners[0].unlink()
    finished("--config", *config, "plugin_dirs=[my_plugins]")
    assert partners[0].is_file()
