"""The real workflow on the demo data: targets, re-runs, systems, plugins."""

from __future__ import annotations

import csv
import filecmp
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import QUICK_RUN, REPO, STOI_SCORING, Snakemake, copy_of_the_workflow, linked_copy, own

from enhancement.data.demo import demo_sessions
from enhancement.data.manifest import targets_of

TARGETS = targets_of(demo_sessions(), ["aria", "ha"], on_skip=lambda _: None)


def submission(workdir: Path, name: str, t) -> Path:
    return workdir / "work" / "enhanced" / name / t.dataset / f"{t.session}.{t.device}.{t.pid}.wav"


def scoring_and_report_jobs(files: int, session_devices: int = 1) -> dict[str, int]:
    """The scoring and report jobs that follow from `files` new submission files of
    `session_devices` session-devices (dev is scored): the audio players of every
    partner of those session-devices (the demo's three; they choose their excerpts
    from its score table)."""
    return {
        "score": session_devices,
        "spectrogram": files,
        "listen": 3 * session_devices,
        "evaluation_reports": 1,
        "validation_table": 1,
        "compare_systems": 1,
    }


def test_passthrough_end_to_end(passthrough_run):
    assert len(TARGETS) == 9
    for t in TARGETS:
        path = submission(passthrough_run, "passthrough", t)
        info = sf.info(path)
        raw = sf.info(passthrough_run / "demo_data" / t.device / "dev" / f"{t.session}.{t.device}.wav")
        assert (info.samplerate, info.subtype, info.channels) == (16000, "PCM_16", 1)
        assert info.frames == round(raw.frames / 3)
        resampled = passthrough_run / "work" / "resampled" / "16000" / t.device / "dev" / f"{t.session}.{t.device}.wav"
        channel0 = sf.read(resampled, dtype="int16")[0][:, 0]
        assert np.array_equal(sf.read(path, dtype="int16")[0], channel0)
    rows = list(csv.DictReader(open(passthrough_run / "work/enhanced/passthrough/dev/validation.csv")))
    assert len(rows) == 9 and {r["status"] for r in rows} == {"ok"}
    log = passthrough_run / "work/logs/enhance/passthrough/dev/dev_02.aria.log"
    assert "pid P302: wrote" in log.read_text()
    # nothing else in the submission folder but the files and the validation summary (scores: work/evaluation)
    folder = passthrough_run / "work/enhanced/passthrough/dev"
    assert len(list(folder.glob("*.wav"))) == 9
    assert {p.name for p in folder.iterdir() if p.suffix != ".wav"} == {"validation.csv"}


def test_second_run_does_nothing(finished):
    result = finished()
    assert "Nothing to be done" in result.stdout + result.stderr


def partner_output(workdir: Path, name: str, session: str, device: str, partner: int) -> Path:
    return workdir / "work" / "partners" / name / "dev" / f"{session}.{device}.partner{partner}.wav"


def test_submission_files_are_the_enhance_outputs_by_seat_order(passthrough_run):
    for t in TARGETS:
        row = next(s for s in demo_sessions() if s.session == t.session)
        partner = row.partners_of(t.device).index(t.pid) + 1
        linked = partner_output(passthrough_run, "passthrough", t.session, t.device, partner)
        assert os.path.samefile(submission(passthrough_run, "passthrough", t), linked)


@pytest.mark.slow
def test_deleting_one_submission_file_remakes_it_without_its_enhance_job(finished):
    path = submission(finished.workdir, "passthrough", TARGETS[0])
    before = path.read_bytes()
    path.unlink()
    # ... and what follows from that file: its score and figure, the tables
    assert finished.planned_jobs() == {
        "submission_file": 1,
        "validate_submission": 1,
        "all": 1,
        **scoring_and_report_jobs(files=1),
    }
    finished("--config", *QUICK_RUN)
    assert path.read_bytes() == before


@pytest.mark.slow
def test_deleting_an_enhance_output_reruns_that_one_job(finished):
    partner_output(finished.workdir, "passthrough", "dev_02", "ha", 2).unlink()
    assert finished.planned_jobs() == {
        "enhance": 1,
        "submission_file": 3,
        "validate_submission": 1,
        "all": 1,
        **scoring_and_report_jobs(files=3),
    }
    result = finished("--config", *QUICK_RUN)
    assert "wildcards: dataset=dev, session=dev_02, device=ha" in result.stdout + result.stderr


@pytest.mark.slow
def test_a_clone_of_the_workflow_elsewhere_reruns_nothing_and_args_count_by_meaning(finished, tmp_path):
    """The same workflow in another folder (a fresh clone, a moved checkout) sees a
    finished run as finished: no path into the workflow's folder is part of a job's
    record. Before, the args yaml was an input by absolute path, and a clone re-ran
    every enhance job. The args yaml counts by what it says: comments and order
    re-run nothing, nor do resources or a time limit; a changed value re-runs the system's jobs."""
    elsewhere = Snakemake(finished.workdir, snakefile=copy_of_the_workflow(tmp_path / "clone"))
    assert elsewhere.planned_jobs() == {}  # passthrough, scored: enhance_args/passthrough.yaml

    args = tmp_path / "example.yaml"
    args.write_text("name: example\nargs: {output_sample_rate: 16000}\n")
    example = ("--config", "enhancement_name=example", f"enhance_args={args}", "devices=[ha]", *QUICK_RUN)
    finished(*example)  # a plugin of enhancement_plugins/, imported by the job
    assert elsewhere.planned_jobs(*example) == {}
    args.write_text("# the same args, reordered\nargs:\n  output_sample_rate: 16000\nname: example\n")
    assert finished.planned_jobs(*example) == {}
    args.write_text("name: example\nargs: {output_sample_rate: 16000}\nresources: {mem_mb: 3000}\ntime_limit: 30\n")
    assert finished.planned_jobs(*example) == {}  # where and how long it runs: no new outputs
    args.write_text("name: example\nargs: {output_sample_rate: 16000}\nthreads: 2\n")
    result = elsewhere(*example, "--dry-run")
    assert "Params have changed since last execution" in result.stdout + result.stderr
    assert elsewhere.planned_jobs(*example)["enhance"] == 1  # dev_02.ha, the one ha recording


@pytest.mark.slow
def test_touching_one_raw_file_reruns_its_resample_and_enhance_only(finished):
    raw = own(finished.workdir / "demo_data/ha/dev/dev_02.ha.wav")
    later = time.time() + 5
    os.utime(raw, (later, later))
    assert finished.planned_jobs() == {
        "resample_device": 1,
        "enhance": 1,
        "submission_file": 3,
        "validate_submission": 1,
        "all": 1,
        **scoring_and_report_jobs(files=3),
    }


@pytest.mark.slow
def test_pids_swapped_between_seats_rerun_the_affected_jobs(finished):
    """Seats 2 and 4 of dev_02 swap pids: every input file is the same, only the
    partner order differs, and both dev_02 jobs (aria, ha) must run again."""
    data = finished.workdir / "data"
    linked_copy(finished.workdir / "demo_data", data)
    config = ("--config", "data_root=data", *QUICK_RUN)
    finished(*config)
    manifest = data / "metadata" / "sessions.dev.csv"
    manifest.write_text(manifest.read_text().replace("P302,P303,P304", "P304,P303,P302"))
    planned = finished.planned_jobs(*config)
    assert planned["enhance"] == 2 and planned["submission_file"] == 6, planned
    result = finished(*config)
    text = result.stdout + result.stderr
    assert "session=dev_02, device=aria" in text and "session=dev_02, device=ha" in text
    assert "session=dev_03" not in text
    log = (finished.workdir / "work/logs/enhance/passthrough/dev/dev_02.aria.log").read_text()
    assert log.index("pid P304: wrote") < log.index("pid P303: wrote") < log.index("pid P302: wrote")


@pytest.mark.slow
def test_history_lives_in_work_dir_wherever_snakemake_is_started(finished, tmp_path):
    """Snakemake's records belong to work_dir: started from another folder with
    absolute paths, a run sees the same history (nothing to do, then exactly the
    jobs a pid swap affects), and files named from the launch folder still mean
    what they did. Before, the records were in the launch folder's .snakemake:
    the swap re-ran nothing and P304.wav was linked to the old seat's output."""
    data = finished.workdir / "data"
    linked_copy(finished.workdir / "demo_data", data)
    finished("--config", "data_root=data", *QUICK_RUN)
    assert (finished.workdir / "work" / ".snakemake" / "metadata").is_dir()
    assert not (finished.workdir / ".snakemake" / "metadata").exists()

    (tmp_path / "elsewhere").mkdir()
    elsewhere = Snakemake(tmp_path / "elsewhere")
    absolute = ("--config", f"data_root={data}", f"work_dir={finished.workdir / 'work'}", *QUICK_RUN)
    assert elsewhere.planned_jobs(*absolute) == {}
    manifest = data / "metadata" / "sessions.dev.csv"
    manifest.write_text(manifest.read_text().replace("P302,P303,P304", "P304,P303,P302"))
    planned = elsewhere.planned_jobs(*absolute)
    assert planned["enhance"] == 2 and planned["submission_file"] == 6, planned
    elsewhere(*absolute)
    enhanced = finished.workdir / "work" / "enhanced" / "passthrough" / "dev"
    partners = finished.workdir / "work" / "partners" / "passthrough" / "dev"
    for pid, seat in (("P304", 1), ("P303", 2), ("P302", 3)):  # seat order after the swap (aria wearer at 1)
        assert filecmp.cmp(
            enhanced / f"dev_02.aria.{pid}.wav", partners / f"dev_02.aria.partner{seat}.wav", shallow=False
        ), pid
    log = (finished.workdir / "work/logs/enhance/passthrough/dev/dev_02.aria.log").read_text()
    assert log.index("pid P304: wrote") < log.index("pid P303: wrote") < log.index("pid P302: wrote")
    assert not (tmp_path / "elsewhere" / ".snakemake" / "metadata").exists()

    # targets and --report named from the launch folder
    assert (
        finished.planned_jobs("work/enhanced/passthrough/dev/validation.csv", "--config", "data_root=data", *QUICK_RUN)
        == {}
    )
    forced = finished.planned_jobs(
        "--forcerun", "work/enhanced/passthrough/dev/dev_02.aria.P304.wav", "--config", "data_root=data", *QUICK_RUN
    )
    assert forced.get("submission_file") == 1 and "enhance" not in forced, forced


def linked_data(root: Path, source: Path, sessions: list[str] | None = None) -> Path:
    """A data root whose files are ``source``'s, linked (read only, not copied), with a
    manifest of its own: ``source``'s rows of ``sessions`` (all by default)."""
    for part in source.iterdir():
        if part.name != "metadata":
            (root / part.name).parent.mkdir(parents=True, exist_ok=True)
            (root / part.name).symlink_to(part)
    (root / "metadata").mkdir(parents=True)
    for part in (source / "metadata").iterdir():
        if part.name != "sessions.dev.csv":
            (root / "metadata" / part.name).symlink_to(part)
    header, *rows = (source / "metadata" / "sessions.dev.csv").read_text().splitlines()
    kept = [r for r in rows if sessions is None or r.split(",", 1)[0] in sessions]
    (root / "metadata" / "sessions.dev.csv").write_text("\n".join([header, *kept]) + "\n")
    return root


def many_sessions_data(root: Path, demo_data: Path, sessions: int) -> Path:
    """A data root with `sessions` sessions, every recording a hard link to one
    demo file (the DAG, not the audio, is what is measured)."""
    shutil.copytree(demo_data / "participant", root / "participant")
    rows = ["session,aria_pos,ha_pos,pos1,pos2,pos3,pos4"]
    for device in ("aria", "ha"):
        (root / device / "dev").mkdir(parents=True)
    for i in range(sessions):
        name = f"s{i:04d}"
        rows.append(f"{name},1,3,P301,P302,P303,P304")
        for device in ("aria", "ha"):
            os.link(demo_data / device / "dev" / f"dev_02.{device}.wav", root / device / "dev" / f"{name}.{device}.wav")
    (root / "metadata").mkdir()
    (root / "metadata" / "sessions.dev.csv").write_text("\n".join(rows) + "\n")
    return root


@pytest.mark.slow
def test_rules_and_rule_graph_do_not_grow_with_the_manifest(tmp_path, demo_data):
    """The same rules, --list-rules and rule graph for 2 sessions and for 60 (the
    challenge's dev and eval sets together have 19). Nothing runs: the demo's
    files are linked, not copied."""
    few = linked_data(tmp_path / "few", demo_data)
    many = many_sessions_data(tmp_path / "many", demo_data, 60)
    snakemake = Snakemake(tmp_path)
    shapes = []
    for root in (few, many):
        config = ("--config", f"data_root={root}", *QUICK_RUN)
        rules = snakemake("--list-rules", *config).stdout
        graph = snakemake("--rulegraph", *config).stdout
        shapes.append((rules, sorted(graph[graph.index("digraph") :].splitlines())))  # edges come unordered
    assert shapes[0] == shapes[1]
    assert "enhance" in shapes[0][0].split() and len(shapes[0][0].split()) < 20
    planned = snakemake.planned_jobs("--config", f"data_root={many}", *QUICK_RUN)
    assert planned["enhance"] == 120 and planned["submission_file"] == 360


@pytest.mark.slow
def test_second_system_with_the_same_rate_shares_the_resampled_files(finished):
    planned = finished.planned_jobs("--config", "enhancement_name=example")
    assert planned == {
        "enhance": 3,
        "submission_file": 9,
        "validate_submission": 1,
        "all": 1,
        **scoring_and_report_jobs(files=9, session_devices=3),
    }


def most_running_at_once(snakemake_log: str, rule_prefix: str) -> int:
    """The most jobs of the rules named ``rule_prefix*`` that Snakemake had
    started and not yet seen finish, from the order of its log lines."""
    running = most = 0
    for line in snakemake_log.splitlines():
        if re.match(rf"(local)?rule {rule_prefix}\w*:", line):
            running += 1
        elif re.match(rf"Finished jobid: \d+ \(Rule: {rule_prefix}", line):
            running -= 1
        most = max(most, running)
    return most


@pytest.mark.slow
def test_resample_target_builds_only_resampled_files_two_jobs_at_a_time(snakemake):
    result = snakemake("resample", cores=2)
    work = snakemake.workdir / "work"
    assert len(list((work / "resampled/16000/participant/dev").glob("*.wav"))) == 7
    assert len(list((work / "resampled/16000").rglob("*.wav"))) == 10
    assert not (work / "enhanced").exists()
    # --cores 2: two resample jobs (one thread each) run side by side
    assert most_running_at_once(result.stderr, "resample_") == 2


@pytest.mark.slow
def test_a_memory_budget_holds_enhance_jobs_back_not_the_others(snakemake):
    # each demo enhance job asks for mem_mb = 1024 + 4 x its inputs' MB (a little over
    # 1024), so a budget of 1100 lets one run at a time while 4 cores run the rest
    result = snakemake("--resources", "mem_mb=1100", "--config", *QUICK_RUN, cores=4)
    asked = [int(m) for m in re.findall(r"mem_mb=(\d+)", result.stderr.split("Provided resources", 1)[1])]
    assert asked and all(1024 < mb < 1100 for mb in asked)
    assert most_running_at_once(result.stderr, "enhance") == 1
    assert most_running_at_once(result.stderr, "resample_") > 1
    assert len(list((snakemake.workdir / "work/enhanced/passthrough/dev").glob("*.wav"))) == 9


@pytest.mark.slow
def test_example_via_run_enhancement_py_equals_passthrough(finished):
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_enhancement.py"),
            "enhancement_name=example",
            "enhance_args=example",
            "--",
            "--directory",
            str(finished.workdir),
            "--cores",
            "2",
            f"--configfile={STOI_SCORING}",
            "--config",
            *QUICK_RUN,
        ],
        capture_output=True,
        text=True,
        cwd=finished.workdir,
    )
    assert result.returncode == 0, result.stderr
    for t in TARGETS:
        ours = sf.read(submission(finished.workdir, "example", t), dtype="int16")[0]
        assert np.array_equal(ours, sf.read(submission(finished.workdir, "passthrough", t), dtype="int16")[0])


SCALED_PLUGIN = """
import torch
from enhancement.registry import Enhancement, register_enhancement

@register_enhancement("scaled")
class Scaled(Enhancement):
    def __init__(self, gain: float) -> None:
        self.gain = gain

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        assert device_fs == 8000 and spkid_fs == 8000 and spkid_audio.shape[0] == 1
        assert kwargs["pid"] in ("P301", "P302", "P303", "P304", "P305", "P306", "P307", "P308")
        import soxr
        return torch.from_numpy(soxr.resample(device_audio[0].numpy(), device_fs, 16000)) * self.gain
"""


@pytest.mark.slow
def test_user_plugin_through_echiplugins_with_its_own_rate(snakemake, tmp_path):
    folder = tmp_path / "elsewhere" / "my_plugins"
    folder.mkdir(parents=True)
    (folder / "scaled.py").write_text(textwrap.dedent(SCALED_PLUGIN))
    (folder / "scaled.yaml").write_text("name: scaled\nargs: {gain: 0.5}\nsample_rate: 8000\n")
    env = {"ECHIPLUGINS": f"{folder}/"}
    snakemake("--config", "enhancement_name=scaled", "devices=[ha]", *QUICK_RUN, env=env)
    work = snakemake.workdir / "work"
    assert (work / "resampled/8000/ha/dev/dev_02.ha.wav").exists()
    assert not (work / "resampled/16000").exists()
    for t in [t for t in TARGETS if t.device == "ha"]:
        out = sf.read(submission(snakemake.workdir, "scaled", t), dtype="float32")[0]
        assert len(out) == 1280000 and 0 < np.abs(out).max() < 0.6
    assert not (work / "enhanced/scaled/dev/dev_03.aria.P305.wav").exists()


@pytest.mark.slow
def test_echiplugins_export_runs_example(snakemake):
    env = {"ECHIPLUGINS": str(REPO / "enhancement_plugins")}
    snakemake("--config", "enhancement_name=example", "devices=[aria]", *QUICK_RUN, env=env)
    assert len(list((snakemake.workdir / "work/enhanced/example/dev").glob("*.wav"))) == 6


@pytest.mark.slow
def test_unknown_config_key_is_named(snakemake):
    result = snakemake("--config", "enhancment_name=example", "--dry-run", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "enhancment_name" in text and "Additional properties" in text


@pytest.mark.slow
def test_unknown_system_lists_the_known_ones(snakemake):
    result = snakemake("--config", "enhancement_name=nosuch", "enhance_args=passthrough", check=False)
    assert result.returncode != 0
    text = result.stdout + result.stderr
    assert "unknown enhancement_name 'nosuch'" in text and "passthrough" in text and "example.py" in text
    assert not list((snakemake.workdir / "work").rglob("enhanced/nosuch/**/*.wav"))


def test_lint_is_clean():
    result = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


@pytest.mark.slow
def test_system_at_the_raw_rate_reads_raw_files_without_resampling(snakemake, tmp_path):
    folder = tmp_path / "plugins48"
    folder.mkdir()
    (folder / "raw48.py").write_text(
        textwrap.dedent(SCALED_PLUGIN)
        .replace('"scaled"', '"raw48"')
        .replace("device_fs == 8000 and spkid_fs == 8000", "device_fs == 48000 and spkid_fs == 48000")
    )
    (folder / "raw48.yaml").write_text("name: raw48\nargs: {gain: 1.0}\nsample_rate: 48000\n")
    planned = snakemake.planned_jobs("--config", "enhancement_name=raw48", env={"ECHIPLUGINS": str(folder)})
    assert "resample_device" not in planned and "resample_enrolment" not in planned
    assert planned["enhance"] == 3
    snakemake("--config", "enhancement_name=raw48", "devices=[ha]", *QUICK_RUN, env={"ECHIPLUGINS": str(folder)})
    assert not (snakemake.workdir / "work" / "resampled").exists()
    assert sf.info(snakemake.workdir / "work/enhanced/raw48/dev/dev_02.ha.P301.wav").frames == 1280000


@pytest.mark.slow
@pytest.mark.xdist_group("baseline")  # the long baseline tests start early, on one worker
def test_baseline_end_to_end_with_fixture_weights(finished, tmp_path):
    """The registered baseline through the workflow, with the small fixture model
    (7 channels: the Aria recordings) on one session (a data folder whose manifest
    lists dev_03 alone, its recording cut to the first 12 s: four windows per
    partner, the last one ragged); again: byte-identical files."""
    data = REPO / "tests" / "data"
    one = linked_data(tmp_path / "one_session", finished.workdir / "demo_data", sessions=["dev_03"])
    (one / "aria").unlink()
    (one / "aria/dev").mkdir(parents=True)
    recording = finished.workdir / "demo_data/aria/dev/dev_03.aria.wav"
    head, rate = sf.read(recording, frames=12 * 48000, dtype="int16")
    sf.write(one / "aria/dev/dev_03.aria.wav", head, rate, subtype="PCM_16")
    args = tmp_path / "baseline_tiny.yaml"
    args.write_text(
        "name: baseline\nargs:\n"
        f"  config_path: {data}/tiny_config.yaml\n  ckpt_path: {data}/tiny_random.pt\n"
        "  window_size: 4\n  stride: 3.5\nsample_rate: 16000\nthreads: 1\n"
    )
    config = (
        "--config",
        "enhancement_name=baseline",
        f"enhance_args={args}",
        f"data_root={one}",
        "devices=[aria]",
        *QUICK_RUN,
    )
    finished(*config)
    outputs = sorted((finished.workdir / "work/enhanced/baseline/dev").glob("*.wav"))
    assert [p.name for p in outputs] == [f"dev_03.aria.{pid}.wav" for pid in ("P305", "P307", "P308")]
    first = {p.name: p.read_bytes() for p in outputs}
    for path in outputs:
        audio, rate = sf.read(path, dtype="float32")
        assert rate == 16000 and len(audio) == 12 * 16000 and np.abs(audio).max() > 0
    passthrough = sf.read(finished.workdir / "work/enhanced/passthrough/dev/dev_03.aria.P305.wav")[0]
    assert not np.allclose(sf.read(outputs[0])[0], passthrough[: 12 * 16000])
    log = (finished.workdir / "work/logs/enhance/baseline/dev/dev_03.aria.log").read_text()
    assert "window" in log and "torch uses 1 thread(s)" in log  # the yaml's threads (the test's workers share 2 cores)
    # again: the same bytes
    again = list(outputs)
    for path in [*again, *(finished.workdir / "work/partners/baseline/dev").glob("dev_03.*.wav")]:
        path.unlink()
    assert finished.planned_jobs(*config).get("enhance") == 1
    finished(*config)
    assert len(again) == 3 and {p.name: p.read_bytes() for p in outputs} == first
