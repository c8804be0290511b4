"""Bad input, failing plugins, interruptions: real snakemake runs on broken copies of the demo.

For each case the run fails (or warns), the line stating the problem names the
culprit and what to do, no final output path holds anything but a complete,
valid file, and the other targets complete under --keep-going. Each case's
observed line is recorded; the last test checks tests/README.md against them
(``UPDATE_TESTS_README=1 pytest tests/failures/test_reliability.py`` rewrites it).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import soxr
from conftest import QUICK_RUN, REPO, Snakemake, copy_of_the_workflow, linked_copy, own

from enhancement.data.submission import Expected, problems_of

pytestmark = pytest.mark.slow

README = REPO / "tests" / "README.md"
OBSERVED: dict[str, tuple[str, str]] = {}  # case -> (test, observed line)
HEADER = "session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\n"
DEMO_ROW = "dev_02,1,3,P301,P302,P303,P304\n"


def normalise(line: str) -> str:
    """What differs from run to run in an observed line: mtimes, measured memory
    and time, pytest's numbered temporary folders."""
    line = re.sub(r"mtime \d+ ns", "mtime <ns> ns", line)
    line = re.sub(r"demo [0-9a-f]{16}", "demo <hash>", line)  # the demo generator's code fingerprint
    line = re.sub(r"peak so far: \d+ MB", "peak so far: <n> MB", line)
    line = re.sub(r"no result after [\d.]+ minutes", "no result after <t> minutes", line)
    return re.sub(
        r"/tmp/pytest-of-[^/]+/pytest-\d+/(popen-gw\d+/)?[^/]+/", "<tmp>/", line
    )  # (xdist: a worker's folder)


def observe(case: str, request: pytest.FixtureRequest, text: str, *needles: str, tmp: Path | None = None) -> str:
    """The first output line containing every needle, recorded for the README table."""
    line = next((ln.strip() for ln in text.splitlines() if all(n in ln for n in needles)), None)
    assert line is not None, f"no line with {needles!r} in the output:\n{text}"
    shown = line if tmp is None else line.replace(str(tmp), "<tmp>")
    shown = re.sub(r"^\d{4}-\d\d-\d\d [\d:,]+ ", "", shown)
    shown = re.sub(r"echi_plugins_[0-9a-f]+", "echi_plugins_<hash>", shown)
    shown = re.sub(r"'[0-9a-f]{16}'", "'<hash>'", shown)  # params fingerprints differ from run to run
    shown = normalise(shown)
    OBSERVED[case] = (request.node.name, shown)
    check_readme_row(case, OBSERVED[case])
    return line


def output_of(result: subprocess.CompletedProcess) -> str:
    return result.stdout + result.stderr


def assert_final_outputs_sound(workdir: Path, killed: bool = False) -> None:
    """Whatever stands at a final path is a whole, valid file. A writer killed
    outright may leave its hidden ``.<name>.*.part`` file (never at a final
    path; removed by the next attempt); otherwise none may be left."""
    for path in (workdir / "work" / "enhanced").rglob("*.wav"):
        assert not problems_of(Expected(path, sf.info(path).frames)), path
    for path in (workdir / "work" / "resampled").rglob("*.wav"):
        sf.info(path)
    stray = [p for p in (workdir / "work").rglob("*.part")]
    assert killed or not stray, stray
    assert all(p.name.startswith(".") for p in stray), stray


# ---- the data ---------------------------------------------------------------


@pytest.fixture()
def data(tmp_path: Path, demo_data: Path) -> Path:
    """A linked copy of the demo data at ``<workdir>/data`` (relative data_root: stable messages)."""
    return linked_copy(demo_data, tmp_path / "data")


@pytest.fixture()
def run(tmp_path: Path, data: Path) -> Snakemake:
    return Snakemake(tmp_path)


def write_manifest(data: Path, body: str, header: str = HEADER) -> None:
    (data / "metadata" / "sessions.dev.csv").write_text(header + body)


MANIFEST_CASES = {
    "manifest: missing file": (None, ("sessions manifest data/metadata/sessions.dev.csv not found", "check data_root")),
    "manifest: missing column": ("dev_02,1,P301,P302,P303,P304\n", ("missing column(s) ['ha_pos']",)),
    "manifest: position outside 1-4": (
        "dev_02,7,3,P301,P302,P303,P304\n",
        ("row 2 (session dev_02): field 'aria_pos' = '7' is not a seat 1-4",),
    ),
    "manifest: empty pid at a used seat": (
        "dev_02,1,3,P301,,P303,P304\n",
        ("row 2 (session dev_02): field 'pos2' is empty",),
    ),
    "manifest: duplicate session": (DEMO_ROW + DEMO_ROW, ("row 3 (session dev_02): duplicate session",)),
    "manifest: session name with /": (
        "dev/02,1,3,P301,P302,P303,P304\n",
        ("field 'session' 'dev/02' is not a valid name",),
    ),
    "manifest: session name with ..": ("..,1,3,P301,P302,P303,P304\n", ("field 'session' '..' is not a valid name",)),
    "manifest: pid with a space": ("dev_02,1,3,P301,P 302,P303,P304\n", ("field 'pos2' 'P 302' is not a valid name",)),
    "manifest: pid ../..": ("dev_02,1,3,P301,../..,P303,P304\n", ("field 'pos2' '../..' is not a valid name",)),
}


@pytest.mark.parametrize("case", MANIFEST_CASES)
def test_manifest_errors(case, run, data, request):
    body, needles = MANIFEST_CASES[case]
    if body is None:
        (data / "metadata" / "sessions.dev.csv").unlink()
    else:
        header = HEADER.replace("ha_pos,", "") if "column" in case else HEADER
        write_manifest(data, body, header)
    result = run("--config", *QUICK_RUN, "data_root=data", check=False)
    assert result.returncode != 0
    line = observe(case, request, output_of(result), *needles)
    assert "sessions.dev.csv" in line
    assert not (run.workdir / "work" / "enhanced").exists()


# ---- round 2 (issue 14), the workflow: the report, staleness, names -----------

FOLDER_NAME_CASES = {
    # S2: breaks out of the JSON Snakemake's report embeds in <script>
    "config: data_root with </script> (report)": (
        "data_root=data/</script><img src=x onerror=alert(1)>",
        ("data_root", "contains '<', '>'", "markup"),
    ),
    # S1: a reStructuredText directive, were data_root pasted into the report's description
    "config: data_root with a newline and a directive (report)": (
        "data_root=data\n\n.. include:: /etc/hostname\n",
        ("data_root", "contains '\\n'", "markup"),
    ),
    "config: work_dir with a quote (report)": (
        'work_dir=work" onmouseover=alert(1) x="',
        ("work_dir", "contains '\"'", "markup"),
    ),
    # not markup, but the same early refusal: Snakemake would read {g} as a wildcard
    # (other braces, as in test_report_browser's `{{ 7*7 }}`, are plain characters to it)
    "config: work_dir with {g} (a wildcard to Snakemake)": (
        "work_dir=work{g}",
        ("work_dir", "contains '{g}'", "wildcard"),
    ),
    "config: submission_dir with {set,[a-z]+} (a wildcard to Snakemake)": (
        "submission_dir=sub/{set,[a-z]+}",
        ("submission_dir", "contains '{set,[a-z]+}'", "wildcard"),
    ),
}


@pytest.mark.parametrize("case", FOLDER_NAME_CASES)
def test_folder_names_that_are_markup_or_wildcards_are_refused_before_anything_runs(case, run, request):
    setting, needles = FOLDER_NAME_CASES[case]
    result = run("--config", *QUICK_RUN, setting, check=False)
    assert result.returncode != 0
    observe(case, request, output_of(result), *needles)
    # nothing written: no work_dir, no folder of the odd name
    assert {p.name for p in run.workdir.iterdir()} <= {"data", ".snakemake"}
    assert {p.name for p in (run.workdir / "data").iterdir()} == {"aria", "ha", "metadata", "participant", "ref"}


PLUGIN_V1 = """
from enhancement.systems.builtins import Passthrough
from enhancement.registry import register_enhancement

@register_enhancement("edited")
class Edited(Passthrough):
    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        return super().process_session(device_audio, device_fs, spkid_audio, spkid_fs, kwargs) * 0.5
"""


def test_editing_the_systems_code_reruns_its_enhance_jobs_only(finished, tmp_path, request):
    """P14: a changed plugin re-runs its system's enhance jobs (and what follows);
    another plugin module of the folder changing does not."""
    folder = plugin_folder(tmp_path, {"edited.py": PLUGIN_V1, "other.py": GOOD.format(name="other")})
    (folder / "edited.yaml").write_text("name: edited\nargs: {}\n")
    config = ("--config", *QUICK_RUN, "enhancement_name=edited", "devices=[ha]")
    env = {"ECHIPLUGINS": str(folder)}
    finished(*config, env=env)
    first = sf.read(finished.workdir / "work/enhanced/edited/dev/dev_02.ha.P301.wav", dtype="int16")[0]
    (folder / "other.py").write_text((folder / "other.py").read_text() + "\n# an unrelated edit\n")
    assert finished.planned_jobs(*config, env=env) == {}
    (folder / "edited.py").write_text(PLUGIN_V1.replace("* 0.5", "* 0.25"))
    result = finished(*config, "--dry-run", env=env)
    observe(
        "plugin: its code edited after a run (re-runs its jobs)",
        request,
        output_of(result),
        "Params have changed since last execution",
    )
    assert finished.planned_jobs(*config, env=env) == {
        "enhance": 1,
        "submission_file": 3,
        "validate_submission": 1,
        "validation_table": 1,
        "all": 1,
    }
    finished(*config, env=env)
    second = sf.read(finished.workdir / "work/enhanced/edited/dev/dev_02.ha.P301.wav", dtype="int16")[0]
    assert np.abs(second.astype(int) * 2 - first).max() <= 2 and np.abs(second).max() > 0


def test_a_recording_replaced_by_an_older_file_is_processed_again(run, data, request):
    """A12: `cp -p` of another take: the new file is older than the outputs, and
    Snakemake's 'input newer than output' alone would keep the old results."""
    config = ("--config", *QUICK_RUN, "data_root=data", "devices=[ha]")
    run(*config)
    raw = own(data / "ha/dev/dev_02.ha.wav")
    before = raw.stat()
    audio, rate = sf.read(raw, dtype="int16")
    sf.write(raw, audio // 2, rate, subtype="PCM_16")
    os.utime(raw, ns=(before.st_atime_ns, before.st_mtime_ns - 3_600_000_000_000))  # an hour older
    result = run(*config, "--dry-run")
    observe(
        "audio: recording replaced by an older file (cp -p; re-run)",
        request,
        output_of(result),
        "Params have changed since last execution",
    )
    planned = run.planned_jobs(*config)
    assert planned["resample_device"] == 1 and planned["enhance"] == 1, planned
    run(*config)
    out = sf.read(run.workdir / "work/enhanced/passthrough/dev/dev_02.ha.P301.wav", dtype="int16")[0]
    resampled = sf.read(run.workdir / "work/resampled/16000/ha/dev/dev_02.ha.wav", dtype="int16")[0][:, 0]
    assert np.array_equal(out, resampled)
    assert np.abs(out).max() <= np.abs(audio).max() // 2 + 2


# ---- code and inputs a job depends on (issue 20) -------------------------------


def edited_workflow(finished: Snakemake, tmp_path: Path) -> Snakemake:
    """The finished run, planned by a copy of the workflow a test may edit."""
    return Snakemake(finished.workdir, snakefile=copy_of_the_workflow(tmp_path / "workflow"))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new))


def test_changing_the_scoring_code_rescores_only_and_a_comment_changes_nothing(finished, tmp_path, request):
    """Issue 20: STOI scaled in the package re-scores every file and re-makes the
    reports (and the listening pages, which import the evaluation package);
    resampling and enhancing are not re-run. A comment is no change."""
    copy = edited_workflow(finished, tmp_path)
    perceptual = copy.snakefile.parent / "enhancement/evaluation/metrics/perceptual.py"
    assert copy.planned_jobs() == {}
    edit(perceptual, "    n = min(len(est), len(ref))\n", "    n = min(len(est), len(ref))  # the shorter\n")
    edit(perceptual, '"""Classic (not extended) STOI', '"""The classic (not extended) STOI')
    assert copy.planned_jobs() == {}
    edit(perceptual, "extended=False))", "extended=False)) * 0.5")
    result = copy("--dry-run")
    observe(
        "code: the scoring code edited after a run (re-scores)",
        request,
        output_of(result),
        "Params have changed since last execution",
    )
    planned = copy.planned_jobs()
    # listen reads segment lists through enhancement.evaluation, whose __init__ imports the metrics
    assert set(planned) == {"score", "evaluation_reports", "compare_systems", "listen", "all"}, planned
    submission = (copy.workdir / "work/enhanced/passthrough/dev").glob("*.wav")
    assert planned["score"] == len({tuple(p.name.split(".")[:2]) for p in submission})  # one per session-device


def test_changing_the_resampling_code_resamples_again(finished, tmp_path, request):
    """passthrough asks for 16 kHz: its inputs go through enhancement/data/audio.py's resampling."""
    copy = edited_workflow(finished, tmp_path)
    audio = copy.snakefile.parent / "enhancement/data/audio.py"
    edit(
        audio,
        'soxr.ResampleStream(info.samplerate, rate, info.channels, dtype="float32")',
        'soxr.ResampleStream(info.samplerate, rate, info.channels, dtype="float32", quality="MQ")',
    )
    observe(
        "code: the resampling code edited after a run (resamples again)",
        request,
        output_of(copy("--dry-run")),
        "Params have changed since last execution",
    )
    planned = copy.planned_jobs()
    resampled = copy.workdir / "work/resampled/16000"
    assert planned["resample_device"] == len(list(resampled.glob("[ah]*/dev/*.wav"))), planned
    assert planned["resample_enrolment"] == len(list(resampled.glob("participant/dev/*.wav"))), planned


def test_changing_report_only_code_redraws_the_report_only(finished, tmp_path, request):
    """enhancement/report/figures.py makes the report's tables and figures: scores stand."""
    copy = edited_workflow(finished, tmp_path)
    edit(
        copy.snakefile.parent / "enhancement/report/figures.py",
        "# one precision per column: 3 decimals",
        "# one precision per column (3 decimals",
    )
    assert copy.planned_jobs() == {}
    edit(
        copy.snakefile.parent / "enhancement/report/figures.py",
        "2 if (table[c].abs() >= 10).any() else 3",
        "1 if (table[c].abs() >= 10).any() else 3",
    )
    observe(
        "code: report-only code edited after a run (re-draws the report only)",
        request,
        output_of(copy("--dry-run")),
        "Params have changed since last execution",
    )
    planned = copy.planned_jobs()
    assert set(planned) == {
        "validation_table",
        "evaluation_reports",
        "compare_systems",
        "spectrogram",
        "listen",
        "all",
    }, planned


def older_different_copy(path: Path, factor: float = 0.5) -> None:
    """The file replaced by different audio dated an hour before it (cp -p of another take)."""
    before = own(path).stat()
    audio, rate = sf.read(path, dtype="float32")
    sf.write(path, audio * factor, rate, subtype=sf.info(path).subtype)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns - 3_600_000_000_000))


def test_a_reference_replaced_by_an_older_file_is_scored_again(run, data, request):
    """Issue 20: a reference replaced by an older, different file (cp -p, rsync -a,
    tar x) re-scores the jobs that read it; nothing is enhanced again."""
    config = ("--config", "report_spectrograms=0", "data_root=data", "devices=[ha]")
    run(*config)
    older_different_copy(data / "ref/dev/dev_02.ha.P302.wav")
    result = run(*config, "--dry-run")
    observe(
        "evaluation: reference replaced by an older file (cp -p; re-scored)",
        request,
        output_of(result),
        "Params have changed since last execution",
    )
    planned = run.planned_jobs(*config)
    assert planned.get("score") == 1, planned  # dev_02.ha, the only ha session-device
    assert "enhance" not in planned and "resample_device" not in planned, planned


def test_a_submission_file_replaced_by_an_older_copy_is_validated_and_scored_again(finished, request):
    """Issue 20: scoring a folder made elsewhere (run_evaluation.py): one of its
    files replaced by an older-dated, different one is validated and scored again."""
    sub = finished.workdir / "sub"
    sub.mkdir()
    for wav in (finished.workdir / "work/enhanced/passthrough/dev").glob("*.ha.*.wav"):
        shutil.copy2(wav, sub / wav.name)
    config = ("--config", "submission_dir=sub", "enhancement_name=mine", "devices=[ha]")
    finished(*config)
    assert finished.planned_jobs(*config) == {}
    older_different_copy(sub / "dev_02.ha.P301.wav")
    result = finished(*config, "--dry-run")
    observe(
        "submission_dir: a file replaced by an older copy (cp -p; validated and scored again)",
        request,
        output_of(result),
        "Params have changed since last execution",
    )
    planned = finished.planned_jobs(*config)
    # every score waits for the folder's validation, so all its files are scored again
    assert planned.get("validate_submission") == 1, planned
    assert planned.get("score") == 1, planned  # dev_02.ha: its three files and their sums


def test_tilde_in_data_root_and_work_dir_is_the_home_folder(run, data, tmp_path, request):
    """C12: `~/...` is expanded, not made into a folder named `~`."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.move(data, home / "data")
    result = run(
        "--config",
        *QUICK_RUN,
        "data_root=~/data",
        "work_dir=~/work",
        "devices=[ha]",
        env={"HOME": str(home)},
    )
    observe("config: ~ in data_root and work_dir (expanded)", request, output_of(result), "steps (100%) done")
    assert not (run.workdir / "~").exists()
    assert len(list((home / "work/enhanced/passthrough/dev").glob("*.wav"))) == 3


def test_sessions_named_alike_work_side_by_side(run, data, request):
    """M11: dev-02 and dev__02 once collided on a rule name."""
    for name in ("dev-02", "dev__02"):
        for device in ("aria", "ha"):
            shutil.copy(data / device / "dev" / f"dev_02.{device}.wav", data / device / "dev" / f"{name}.{device}.wav")
    write_manifest(data, "dev-02,1,3,P301,P302,P303,P304\ndev__02,1,3,P301,P302,P303,P304\n")
    result = run("--config", *QUICK_RUN, "data_root=data")
    observe("manifest: sessions dev-02 and dev__02 side by side", request, output_of(result), "steps (100%) done")
    assert len(list((run.workdir / "work/enhanced/passthrough/dev").glob("*.wav"))) == 12


# ---- broken audio: one --keep-going run over sessions broken differently ----

AUDIO_SESSIONS = {
    # session: (aria_pos, ha_pos, how the recording is broken)
    "good": ("1", "3", None),
    "zero_len": ("1", "", "zero length"),
    "trunc": ("1", "", "truncated"),
    "notwav": ("1", "", "not a wav"),
    "rate44": ("1", "", "44.1 kHz"),
    "chans": ("", "3", "7 channels on a hearing aid"),
}


# the tests of one module-scoped run go to one xdist worker, which makes the run once
ONE_AUDIO_RUN = pytest.mark.xdist_group("audio_run")


@pytest.fixture(scope="module")
def audio_run(tmp_path_factory, demo_data) -> tuple[Path, str, int]:
    workdir = tmp_path_factory.mktemp("audio")
    data = workdir / "data"
    shutil.copytree(demo_data / "participant", data / "participant")
    (data / "metadata").mkdir(parents=True)
    rows = [f"{s},{a},{h},P301,P302,P303,P304\n" for s, (a, h, _) in AUDIO_SESSIONS.items()]
    write_manifest(data, "".join(rows))
    aria = demo_data / "aria/dev/dev_02.aria.wav"
    for device in ("aria", "ha"):
        (data / device / "dev").mkdir(parents=True)
    shutil.copy(aria, data / "aria/dev/good.aria.wav")
    shutil.copy(demo_data / "ha/dev/dev_02.ha.wav", data / "ha/dev/good.ha.wav")
    sf.write(data / "aria/dev/zero_len.aria.wav", np.zeros((0, 7), np.float32), 48000, subtype="PCM_16")
    whole = aria.read_bytes()
    (data / "aria/dev/trunc.aria.wav").write_bytes(whole[: len(whole) * 2 // 3])
    (data / "aria/dev/notwav.aria.wav").write_text("session notes, not audio\n")
    audio, _ = sf.read(aria, dtype="float32")
    sf.write(data / "aria/dev/rate44.aria.wav", soxr.resample(audio, 48000, 44100), 44100, subtype="PCM_16")
    shutil.copy(aria, data / "ha/dev/chans.ha.wav")
    result = Snakemake(workdir)("--config", *QUICK_RUN, "data_root=data", "--keep-going", check=False)
    return workdir, output_of(result), result.returncode


AUDIO_CASES = {
    "audio: zero-length file": ("zero_len", ("data/aria/dev/zero_len.aria.wav has no audio (0 frames)",)),
    "audio: truncated WAV": ("trunc", ("data/aria/dev/trunc.aria.wav is truncated: its header declares",)),
    "audio: not a WAV": ("notwav", ("data/aria/dev/notwav.aria.wav is not a readable audio file",)),
    "audio: wrong channel count": ("chans", ("data/ha/dev/chans.ha.wav has 7 channels; 4 were expected",)),
}


@ONE_AUDIO_RUN
@pytest.mark.parametrize("case", AUDIO_CASES)
def test_broken_recordings_fail_their_jobs_only(case, audio_run, request):
    workdir, text, returncode = audio_run
    session, needles = AUDIO_CASES[case]
    assert returncode != 0
    observe(case, request, text, *needles)
    assert not list((workdir / "work/enhanced").rglob(f"{session}.*.wav"))
    assert_final_outputs_sound(workdir)


@ONE_AUDIO_RUN
def test_other_sessions_complete_beside_broken_ones(audio_run):
    workdir, _, _ = audio_run
    for device, pids in (("aria", ("P302", "P303", "P304")), ("ha", ("P301", "P302", "P304"))):
        for pid in pids:
            assert sf.info(workdir / f"work/enhanced/passthrough/dev/good.{device}.{pid}.wav").frames == 1280000
    # the submission is incomplete, so it is not declared valid
    assert not (workdir / "work/enhanced/passthrough/dev/validation.csv").exists()


@ONE_AUDIO_RUN
def test_unexpected_sample_rate_is_used_with_a_warning(audio_run, request):
    workdir, text, _ = audio_run
    observe(
        "audio: 44.1 kHz where 48 kHz is expected (warning)",
        request,
        text,
        "data/aria/dev/rate44.aria.wav is at 44100 Hz, not the expected 48000 Hz",
    )
    frames = sf.info(workdir / "data/aria/dev/rate44.aria.wav").frames
    out = workdir / "work/enhanced/passthrough/dev/rate44.aria.P302.wav"
    assert sf.info(out).frames == round(frames * 16000 / 44100) == 1280000


@pytest.mark.parametrize(
    "case, victim, needles",
    [
        (
            "audio: missing device WAV",
            "aria/dev/dev_02.aria.wav",
            ("data/aria/dev/dev_02.aria.wav (recording of session dev_02, device aria)",),
        ),
        (
            "audio: missing enrolment WAV",
            "participant/dev/P302.wav",
            ("data/participant/dev/P302.wav (enrolment of pid P302, a partner in session dev_02)",),
        ),
    ],
)
def test_missing_inputs_are_listed_before_anything_runs(case, victim, needles, run, data, request):
    (data / victim).unlink()
    result = run("--config", *QUICK_RUN, "data_root=data", check=False)
    assert result.returncode != 0
    assert "input file(s) named by the manifest are missing" in output_of(result)
    observe(case, request, output_of(result), *needles)
    assert not (run.workdir / "work").exists() or not list((run.workdir / "work").rglob("*.wav"))


# ---- plugins ----------------------------------------------------------------

FAULTY = """
import os
import signal
import sys
import time

import numpy as np
import torch
from enhancement.registry import register_enhancement

@register_enhancement("faulty")
class Faulty:
    def __init__(self, mode: str) -> None:
        self.mode = mode

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        x = device_audio[0].clone()
        if self.mode == "raise" and kwargs["pid"] == "P302" and kwargs["device"] == "ha":
            raise ValueError("model exploded")
        if self.mode == "nan":
            x[100] = float("nan")
        if self.mode == "inf":
            x[-1] = float("inf")
        if self.mode == "2d":
            return device_audio[:2]
        if self.mode == "short":
            return x[: len(x) // 2]
        if self.mode == "long":
            return torch.cat([x, x])
        if self.mode == "loud":
            return x * 40
        if self.mode == "numpy":
            return x.numpy().astype(np.float64)
        if self.mode == "int16":
            return (x * 32767).to(torch.int16)
        if self.mode == "meta":
            return torch.empty(len(x), device="meta")
        if self.mode == "inplace":
            device_audio.mul_(0.5)
            return x
        if kwargs["pid"] == "P302":
            if self.mode == "exit":
                sys.exit(0)
            if self.mode == "os_exit":
                os._exit(0)
            if self.mode == "hang":
                time.sleep(600)
            if self.mode == "oom":
                hog = np.ones(30_000_000)  # as the kernel's OOM killer would: a SIGKILL, no goodbye
                time.sleep(1.5)
                os.kill(os.getpid(), signal.SIGKILL)
        return x
"""


def plugin_folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "plugins"
    folder.mkdir(exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(textwrap.dedent(text))
    return folder


def faulty_args(folder: Path, mode: str, extra: str = "") -> Path:
    path = folder / f"faulty_{mode}.yaml"
    path.write_text(f"name: faulty\nargs: {{mode: {mode}}}\n{extra}")
    return path


OUTPUT_CASES = {
    "plugin: returns NaN": (
        "nan",
        ("faulty returned 1 NaN/Inf samples for dataset dev, session dev_02, device ha, pid P301",),
    ),
    "plugin: returns Inf": ("inf", ("faulty returned 1 NaN/Inf samples for dataset dev, session dev_02, device ha",)),
    "plugin: returns 2-D multichannel": (
        "2d",
        ("faulty returned shape (2, 1280000) for dataset dev, session dev_02, device ha", "expected one channel"),
    ),
    "plugin: output much shorter": (
        "short",
        ("faulty returned 640000 samples for dataset dev, session dev_02, device ha", "expected 1280000"),
    ),
    "plugin: output much longer": ("long", ("faulty returned 2560000 samples", "expected 1280000")),
    "plugin: returns int16 samples": (
        "int16",
        ("faulty returned integer samples (int16) for dataset dev, session dev_02, device ha, pid P301",),
    ),
    "plugin: returns a meta tensor": (
        "meta",
        ("faulty returned a 'meta' tensor (shape only, no data) for dataset dev, session dev_02, device ha, pid P301",),
    ),
    "plugin: calls sys.exit(0)": (
        "exit",
        ("faulty.process_session failed for dataset dev, session dev_02, device ha, pid P302: it called sys.exit(0)",),
    ),
    "plugin: calls os._exit(0)": (
        "os_exit",
        (
            "faulty on dataset dev, session dev_02, device ha: the process exited "
            "(exit code 0) while in faulty.process_session for",
            "pid P302",
        ),
    ),
    "plugin: killed by SIGKILL (out of memory)": (
        "oom",
        (
            "killed by SIGKILL while in faulty.process_session for dataset dev, session dev_02, device ha, pid P302",
            "probably for lack of memory",
            "mem_mb",
        ),
    ),
}


@pytest.mark.parametrize("case", OUTPUT_CASES)
def test_bad_plugin_outputs(case, finished, tmp_path, request):
    mode, needles = OUTPUT_CASES[case]
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    result = finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={faulty_args(folder, mode)}",
        "devices=[ha]",
        env={"ECHIPLUGINS": str(folder)},
        check=False,
    )
    assert result.returncode != 0
    observe(case, request, output_of(result), *needles)
    assert not (finished.workdir / "work/enhanced/faulty").exists() or not list(
        (finished.workdir / "work/enhanced/faulty").rglob("*.wav")
    )
    assert_final_outputs_sound(finished.workdir)


def test_a_hanging_plugin_is_stopped_at_its_time_limit(finished, tmp_path, request):
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    args = faulty_args(folder, "hang", "time_limit: 0.1\n")  # minutes
    started = time.monotonic()
    result = finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={args}",
        "devices=[ha]",
        env={"ECHIPLUGINS": str(folder)},
        check=False,
    )
    assert result.returncode != 0 and time.monotonic() - started < 120
    observe(
        "plugin: never returns (time_limit in its args yaml)",
        request,
        output_of(result),
        "faulty on dataset dev, session dev_02, device ha: no result after",
        "(time_limit 0.1 minutes) while in faulty.process_session for dataset dev, session dev_02, device ha, pid P302",
    )
    assert_final_outputs_sound(finished.workdir)


def test_a_plugin_changing_the_device_audio_in_place_does_not_reach_the_next_partner(finished, tmp_path):
    """P5: each partner's call sees the audio as read."""
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={faulty_args(folder, 'inplace')}",
        "devices=[ha]",
        env={"ECHIPLUGINS": str(folder)},
    )
    for pid in ("P301", "P302", "P304"):
        ours = sf.read(finished.workdir / f"work/enhanced/faulty/dev/dev_02.ha.{pid}.wav", dtype="int16")[0]
        reference = sf.read(finished.workdir / f"work/enhanced/passthrough/dev/dev_02.ha.{pid}.wav", dtype="int16")[0]
        assert np.array_equal(ours, reference), pid


def test_raising_plugin_names_the_target_and_others_complete(finished, tmp_path, request):
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    result = finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={faulty_args(folder, 'raise')}",
        "--keep-going",
        env={"ECHIPLUGINS": str(folder)},
        check=False,
    )
    assert result.returncode != 0
    observe(
        "plugin: process_session raises",
        request,
        output_of(result),
        "faulty.process_session failed for dataset dev, session dev_02, device ha, pid P302: "
        "ValueError: model exploded",
    )
    log = (finished.workdir / "work/logs/enhance/faulty/dev/dev_02.ha.log").read_text()
    assert "Traceback" in log and 'raise ValueError("model exploded")' in log
    out = finished.workdir / "work/enhanced/faulty/dev"
    assert sorted(p.name for p in out.glob("*.wav")) == [
        "dev_02.aria.P302.wav",
        "dev_02.aria.P303.wav",
        "dev_02.aria.P304.wav",
        "dev_03.aria.P305.wav",
        "dev_03.aria.P307.wav",
        "dev_03.aria.P308.wav",
    ]
    assert_final_outputs_sound(finished.workdir)


@pytest.mark.parametrize(
    "case, mode, needles",
    [
        (
            "plugin: values beyond [-1, 1] (clipped, warning)",
            "loud",
            ("dataset dev, session dev_02, device ha, pid P301: faulty returned", "samples beyond [-1, 1]; clipped"),
        ),
    ],
)
def test_loud_output_is_clipped_with_a_count(case, mode, needles, finished, tmp_path, request):
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    result = finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={faulty_args(folder, mode)}",
        "devices=[ha]",
        env={"ECHIPLUGINS": str(folder)},
    )
    line = observe(case, request, output_of(result), *needles)
    count = int(re.search(r"returned (\d+) samples beyond", line)[1])
    out, _ = sf.read(finished.workdir / "work/enhanced/faulty/dev/dev_02.ha.P301.wav", dtype="float32")
    channel0 = sf.read(finished.workdir / "work/resampled/16000/ha/dev/dev_02.ha.wav", dtype="float32")[0][:, 0]
    assert count == int(np.count_nonzero(np.abs(channel0 * 40) > 1)) > 0
    assert np.abs(out).max() <= 1.0


def test_numpy_output_is_accepted(finished, tmp_path):
    folder = plugin_folder(tmp_path, {"faulty.py": FAULTY})
    finished(
        "--config",
        *QUICK_RUN,
        "enhancement_name=faulty",
        f"enhance_args={faulty_args(folder, 'numpy')}",
        "devices=[ha]",
        env={"ECHIPLUGINS": str(folder)},
    )
    ours = sf.read(finished.workdir / "work/enhanced/faulty/dev/dev_02.ha.P301.wav", dtype="int16")[0]
    reference = sf.read(finished.workdir / "work/enhanced/passthrough/dev/dev_02.ha.P301.wav", dtype="int16")[0]
    assert np.array_equal(ours, reference)


GOOD = FAULTY.replace('"faulty"', '"{name}"')
OK_ARGS = "name: faulty\nargs: {mode: fine}\n"

PLUGIN_CASES = {
    "plugin: unknown name": (
        {},
        ["enhancement_name=nosuch", "enhance_args=passthrough"],
        ("unknown enhancement_name 'nosuch'. Registered systems",),
    ),
    "plugin: plugin folder missing": (None, ["enhancement_name=faulty"], ("ECHIPLUGINS names", "not a folder")),
    "plugin: syntax error": (
        {"faulty.py": FAULTY, "faulty.yaml": OK_ARGS, "broken.py": "def oops(:\n    pass\n"},
        ["enhancement_name=faulty"],
        ("plugins/broken.py failed to import at", "plugins/broken.py:1: SyntaxError"),
    ),
    "plugin: import error": (
        {"faulty.py": FAULTY, "faulty.yaml": OK_ARGS, "needs.py": "import os\nimport not_installed_anywhere\n"},
        ["enhancement_name=faulty"],
        ("plugins/needs.py failed to import at", "needs.py:2: ModuleNotFoundError"),
    ),
    "plugin: two plugins register one name": (
        {"a.py": GOOD.format(name="twin"), "b.py": GOOD.format(name="twin")},
        ["enhancement_name=twin", "enhance_args=passthrough"],
        ("enhancement name 'twin' is registered twice", "plugins/a.py", "plugins/b.py"),
    ),
    "plugin: args yaml missing": (
        {"faulty.py": FAULTY},
        ["enhancement_name=faulty"],
        ("no args yaml for enhance_args='faulty'",),
    ),
    "plugin: args yaml unparsable": (
        {"faulty.py": FAULTY, "faulty.yaml": "name: faulty\nargs: {mode: [\n"},
        ["enhancement_name=faulty"],
        ("plugins/faulty.yaml is not valid YAML",),
    ),
    "plugin: args yaml missing an arg": (
        {"faulty.py": FAULTY, "faulty.yaml": "name: faulty\nargs: {}\n"},
        ["enhancement_name=faulty"],
        ("plugins/faulty.yaml does not fit Faulty.__init__: missing arg(s) ['mode']",),
    ),
    "plugin: args yaml with an unknown arg": (
        {"faulty.py": FAULTY, "faulty.yaml": "name: faulty\nargs: {mode: x, gain: 2}\n"},
        ["enhancement_name=faulty"],
        ("plugins/faulty.yaml does not fit Faulty.__init__: unknown arg(s) ['gain']",),
    ),
}


@pytest.mark.parametrize("case", PLUGIN_CASES)
def test_plugin_and_args_errors(case, finished, tmp_path, request):
    files, config, needles = PLUGIN_CASES[case]
    folder = tmp_path / "plugins" if files is None else plugin_folder(tmp_path, files)
    result = finished("--config", *QUICK_RUN, *config, "devices=[ha]", env={"ECHIPLUGINS": str(folder)}, check=False)
    assert result.returncode != 0
    observe(case, request, output_of(result), *needles, tmp=tmp_path)
    assert_final_outputs_sound(finished.workdir)
    # the finished passthrough submission is left as it was
    assert len(list((finished.workdir / "work/enhanced/passthrough/dev").glob("*.wav"))) == 9


# ---- interruption, concurrency, determinism, disk -----------------------------

STALL = '''
import os
import time
from pathlib import Path
from enhancement.registry import register_enhancement

@register_enhancement("stall")
class Stall:
    """Channel 0, but hangs once at pid P303 (while its flag file exists)."""

    def __init__(self, flag: str) -> None:
        self.flag = Path(flag)

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        if kwargs["pid"] == "P303" and self.flag.exists():
            self.flag.write_text(str(os.getpid()))
            self.flag.rename(self.flag.with_suffix(".hanging"))
            time.sleep(300)
        return device_audio[0]
'''


def submission_digests(workdir: Path, name: str) -> dict[str, str]:
    folder = workdir / "work" / "enhanced" / name / "dev"
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.wav"))}


@pytest.fixture()
def stall(tmp_path, workdir):
    folder = plugin_folder(tmp_path / "", {"stall.py": STALL})
    flag = tmp_path / "stall.flag"
    (folder / "stall.yaml").write_text(f"name: stall\nargs: {{flag: {flag}}}\n")
    return folder, flag


def start_background(workdir: Path, env: dict, *args: str) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    return subprocess.Popen(
        command,
        env={**os.environ, **env},
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(path: Path, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[0]
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.2)


@pytest.mark.parametrize("victim", ["snakemake and its jobs", "the enhance job only"])
def test_kill_9_mid_enhance_then_rerun_gives_identical_outputs(victim, workdir, stall, passthrough_run):
    folder, flag = stall
    flag.write_text("")
    env = {"ECHIPLUGINS": str(folder)}
    proc = start_background(workdir, env, "--config", *QUICK_RUN, "enhancement_name=stall")
    hanging = flag.with_suffix(".hanging")
    wait_for(hanging, proc)
    time.sleep(0.5)
    if victim == "the enhance job only":
        os.kill(int(hanging.read_text()), signal.SIGKILL)
        output = proc.communicate(timeout=120)[0]
        assert proc.returncode != 0 and "Error in rule enhance:" in output
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert_final_outputs_sound(workdir, killed=True)
    if victim == "snakemake and its jobs":
        Snakemake(workdir)("--unlock")  # its lock outlives a kill -9 (README: When things go wrong)
    Snakemake(workdir)("--config", *QUICK_RUN, "enhancement_name=stall", "--rerun-incomplete", env=env)
    assert_final_outputs_sound(workdir)
    ours = submission_digests(workdir, "stall")
    assert ours == submission_digests(passthrough_run, "passthrough")  # stall is passthrough in disguise


def test_sigterm_to_snakemake_ends_a_hanging_job(workdir, stall, request):
    """P8: a plain `kill` of Snakemake (which waits for its running jobs) ends them."""
    folder, flag = stall
    flag.write_text("")
    proc = start_background(workdir, {"ECHIPLUGINS": str(folder)}, "--config", *QUICK_RUN, "enhancement_name=stall")
    hanging = flag.with_suffix(".hanging")
    wait_for(hanging, proc)
    system = int(hanging.read_text())
    proc.send_signal(signal.SIGTERM)
    output = proc.communicate(timeout=90)[0]
    assert proc.returncode != 0
    observe(
        "run: kill (SIGTERM) of Snakemake while a system hangs",
        request,
        output,
        "stall on dataset dev, session dev_02, device aria: stopped by SIGTERM",
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # the system's process goes, if not at once under load
        try:
            os.kill(system, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the hanging system (pid {system}) outlived Snakemake's SIGTERM:\n{output}")
    assert_final_outputs_sound(workdir, killed=True)


@pytest.mark.parametrize("delay", [1.0, 4.0])
def test_kill_9_at_any_moment_then_rerun_gives_identical_outputs(delay, workdir, passthrough_run):
    proc = start_background(workdir, {}, "--config", *QUICK_RUN)
    time.sleep(delay)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert_final_outputs_sound(workdir, killed=True)
    Snakemake(workdir)("--unlock")
    Snakemake(workdir)("--rerun-incomplete", "--config", *QUICK_RUN)
    assert submission_digests(workdir, "passthrough") == submission_digests(passthrough_run, "passthrough")
    assert_final_outputs_sound(workdir)


def test_a_second_snakemake_on_the_same_work_dir_is_locked_out_wherever_it_starts(workdir, stall, request, tmp_path):
    """While one run holds work_dir, a second one stops, naming the folder: started
    in the same folder, and started elsewhere on the same work_dir (absolute paths),
    since the lock lives in work_dir."""
    folder, flag = stall
    flag.write_text("")
    env = {"ECHIPLUGINS": str(folder)}
    proc = start_background(workdir, env, "--config", *QUICK_RUN, "enhancement_name=stall")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # (--rerun-incomplete: else the running job's outputs, marked incomplete, are reported first)
    second = ("--rerun-incomplete", "--config", *QUICK_RUN, "enhancement_name=stall")
    try:
        wait_for(flag.with_suffix(".hanging"), proc)
        here = Snakemake(workdir)(*second, env=env, check=False)
        there = Snakemake(elsewhere)(
            *second, f"data_root={workdir / 'demo_data'}", f"work_dir={workdir / 'work'}", env=env, check=False
        )
        assert here.returncode != 0 and there.returncode != 0
        observe(
            "concurrency: second snakemake on the same work_dir", request, output_of(here), "Directory cannot be locked"
        )
        observe(
            "concurrency: second snakemake on the same work_dir, started in another folder",
            request,
            output_of(there),
            "Directory cannot be locked",
        )
        assert f"the following directory:\n{workdir / 'work'}\n" in output_of(there)
        locks = elsewhere / ".snakemake" / "locks"
        assert not locks.exists() or not any(locks.iterdir())
        assert "snakemake --unlock" in (REPO / "README.md").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # the first run is killed outright: a job of another session-device may be mid-write
    assert_final_outputs_sound(workdir, killed=True)


def test_two_runs_give_byte_identical_submissions(workdir, passthrough_run):
    Snakemake(workdir)("--config", *QUICK_RUN)
    assert submission_digests(workdir, "passthrough") == submission_digests(passthrough_run, "passthrough")
    assert len(submission_digests(workdir, "passthrough")) == 9


def test_unwritable_work_dir_is_named(workdir, request):
    (workdir / "blocked").write_text("a file where a folder should be\n")
    result = Snakemake(workdir)("--config", *QUICK_RUN, "work_dir=blocked/work", check=False)
    assert result.returncode != 0
    observe(
        "disk: output folder not writable",
        request,
        output_of(result),
        "work_dir blocked/work is not a writable folder",
        "set work_dir",
    )


# ---- round 2 (issue 14), package-level cases: manifest, audio, disk, args yaml, submission ----

LATIN1_ROW = "dev_02,1,3,P301,P302,P303,P304\n".replace("P303", "Jos\xe9")

MANIFEST_CASES_2 = {
    # case: (manifest bytes, needles of the line stating the problem)
    "manifest: misspelt column (the header found is named)": (
        (HEADER.replace("aria_pos", "aria pos") + DEMO_ROW).encode(),
        ("missing column(s) ['aria_pos'] in the header found, ['session', 'aria pos'",),
    ),
    "manifest: a byte that is not UTF-8": (
        (HEADER + DEMO_ROW.replace("dev_02", "dev_03")).encode() + LATIN1_ROW.encode("latin-1"),
        ("sessions.dev.csv, line 3: byte b'\\xe9' is not UTF-8 text",),
    ),
    "manifest: header only": (HEADER.encode(), ("sessions.dev.csv lists no sessions (it has only its header)",)),
    "manifest: duplicate column": (
        (HEADER.strip() + ",pos2\n" + DEMO_ROW.strip() + ",P309\n").encode(),
        ("sessions.dev.csv: column(s) ['pos2'] appear more than once in the header",),
    ),
    "manifest: row with an extra field": (
        (HEADER + DEMO_ROW.strip() + ",P309\n").encode(),
        ("sessions.dev.csv, row 2: 8 fields where the header has 7",),
    ),
    "manifest: wearer's pid also at a partner's seat": (
        (HEADER + "dev_02,1,3,P301,P301,P303,P304\n").encode(),
        ("row 2 (session dev_02): field 'pos2' = 'P301' is also at seat 1 (field 'pos1', the aria wearer)",),
    ),
    "manifest: one pid at two partner seats": (
        (HEADER + "dev_02,1,3,P301,P302,P302,P304\n").encode(),
        ("row 2 (session dev_02): field 'pos3' = 'P302' is also at seat 2 (field 'pos2')",),
    ),
    "manifest: aria_pos == ha_pos": (
        (HEADER + "dev_02,1,1,P301,P302,P303,P304\n").encode(),
        ("row 2 (session dev_02): field 'ha_pos' = '1' is also aria_pos",),
    ),
}


@pytest.mark.parametrize("case", MANIFEST_CASES_2)
def test_manifest_errors_round_2(case, run, data, request):
    text, needles = MANIFEST_CASES_2[case]
    (data / "metadata" / "sessions.dev.csv").write_bytes(text)
    result = run("--config", *QUICK_RUN, "data_root=data", check=False)
    assert result.returncode != 0
    line = observe(case, request, output_of(result), *needles)
    assert "data/metadata/sessions.dev.csv" in line
    assert not (run.workdir / "work" / "enhanced").exists()


def test_manifest_with_byte_order_mark_and_spaced_header_is_read(run, data, request):
    """As spreadsheets save a CSV: a UTF-8 byte-order mark, and ', ' between the names."""
    manifest = data / "metadata" / "sessions.dev.csv"
    header, _, body = manifest.read_text().partition("\n")
    manifest.write_bytes(("\ufeff" + header.replace(",", ", ") + "\n" + body).encode())
    result = run("--config", *QUICK_RUN, "data_root=data")
    observe(
        "manifest: UTF-8 byte-order mark, spaces after the commas of the header (accepted)",
        request,
        output_of(result),
        "steps (100%) done",
    )
    folder = run.workdir / "work/enhanced/passthrough/dev"
    assert len(list(folder.glob("*.wav"))) == 9 and (folder / "validation.csv").is_file()


def unknown_size(whole: bytes) -> bytes:
    """A WAV whose RIFF and data sizes say 'unknown' (0xFFFFFFFF), cut to 2/3."""
    data = bytearray(whole)
    at = data.find(b"data")
    data[4:8] = data[at + 4 : at + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    return bytes(data[: len(data) * 2 // 3])


AUDIO_SESSIONS_2 = {
    # session: how its aria recording (or a partner's enrolment) is broken
    "good": None,
    "unknown_size": "data size 0xFFFFFFFF, cut short",
    "rf64_cut": "RF64, cut short",
    "flac_cut": "FLAC, cut short, named .wav",
    "nan": "float, one NaN",
    "short_enrol": "pid P399's enrolment is one frame long",
}


ONE_AUDIO_RUN_2 = pytest.mark.xdist_group("audio_run_2")


@pytest.fixture(scope="module")
def audio_run_2(tmp_path_factory, demo_data) -> tuple[Path, str, int]:
    workdir = tmp_path_factory.mktemp("audio2")
    data = workdir / "data"
    shutil.copytree(demo_data / "participant", data / "participant")
    sf.write(data / "participant/dev/P399.wav", np.zeros(1, np.float32), 48000, subtype="PCM_16")
    (data / "metadata").mkdir(parents=True)
    pids = {s: "P301,P302,P303,P304" for s in AUDIO_SESSIONS_2} | {"short_enrol": "P301,P302,P303,P399"}
    write_manifest(data, "".join(f"{s},1,,{pids[s]}\n" for s in AUDIO_SESSIONS_2))
    (data / "aria/dev").mkdir(parents=True)
    raw = demo_data / "aria/dev/dev_02.aria.wav"
    audio, _ = sf.read(raw, dtype="float32")
    for session in ("good", "short_enrol"):
        shutil.copy(raw, data / f"aria/dev/{session}.aria.wav")
    (data / "aria/dev/unknown_size.aria.wav").write_bytes(unknown_size(raw.read_bytes()))
    rf64 = workdir / "whole.rf64"
    sf.write(rf64, audio, 48000, subtype="PCM_16", format="RF64")
    (data / "aria/dev/rf64_cut.aria.wav").write_bytes(rf64.read_bytes()[: rf64.stat().st_size * 2 // 3])
    flac = workdir / "whole.flac"
    sf.write(flac, audio, 48000, format="FLAC")
    (data / "aria/dev/flac_cut.aria.wav").write_bytes(flac.read_bytes()[: flac.stat().st_size * 2 // 3])
    audio[200_000, 3] = np.nan
    sf.write(data / "aria/dev/nan.aria.wav", audio, 48000, subtype="FLOAT")
    result = Snakemake(workdir)("--config", *QUICK_RUN, "data_root=data", "devices=[aria]", "--keep-going", check=False)
    return workdir, output_of(result), result.returncode


AUDIO_CASES_2 = {
    "audio: WAV whose header leaves the length unknown (0xFFFFFFFF)": (
        "unknown_size",
        ("data/aria/dev/unknown_size.aria.wav: its header does not say how long the audio is",),
    ),
    "audio: truncated RF64": ("rf64_cut", ("data/aria/dev/rf64_cut.aria.wav is truncated: its header declares",)),
    "audio: truncated FLAC saved as .wav": (
        "flac_cut",
        ("data/aria/dev/flac_cut.aria.wav could not be read after frame", "damaged or truncated"),
    ),
    "audio: NaN in a float recording (resampled)": (
        "nan",
        ("data/aria/dev/nan.aria.wav holds NaN or Inf samples (the first at frame 200000, 4.167 s in)",),
    ),
    "audio: one-frame enrolment": (
        "short_enrol",
        ("data/participant/dev/P399.wav is only 0.000 s long (1 frame(s) at 48000 Hz)",),
    ),
}


@ONE_AUDIO_RUN_2
@pytest.mark.parametrize("case", AUDIO_CASES_2)
def test_broken_recordings_round_2_fail_naming_the_raw_file(case, audio_run_2, request):
    workdir, text, returncode = audio_run_2
    session, needles = AUDIO_CASES_2[case]
    assert returncode != 0
    observe(case, request, text, *needles)
    assert not list((workdir / "work/enhanced").rglob(f"{session}.*.wav"))
    assert "resampled/16000" not in next(ln for ln in text.splitlines() if needles[0] in ln)
    assert_final_outputs_sound(workdir)


@ONE_AUDIO_RUN_2
def test_good_session_completes_beside_the_broken_ones_round_2(audio_run_2):
    workdir, _, _ = audio_run_2
    for pid in ("P302", "P303", "P304"):
        assert sf.info(workdir / f"work/enhanced/passthrough/dev/good.aria.{pid}.wav").frames == 1280000


def test_nan_in_a_recording_read_at_48_khz_names_the_recording(run, data, request):
    """A system at 48 kHz reads the raw recording itself: no resample job sees it."""
    raw = own(data / "aria/dev/dev_02.aria.wav")
    audio, _ = sf.read(raw, dtype="float32")
    audio[100, 0] = np.inf
    sf.write(raw, audio, 48000, subtype="FLOAT")
    args = data / "passthrough48k.yaml"
    args.write_text("name: passthrough\nargs: {}\nsample_rate: 48000\n")
    result = run("--config", *QUICK_RUN, "data_root=data", "devices=[aria]", f"enhance_args={args}", check=False)
    assert result.returncode != 0
    observe(
        "audio: Inf in a float recording read at 48 kHz",
        request,
        output_of(result),
        "data/aria/dev/dev_02.aria.wav holds NaN or Inf samples (the first at frame 100",
    )
    assert not list((run.workdir / "work/enhanced").rglob("dev_02.aria.*.wav"))


def test_full_disk_says_no_space_left_and_names_the_file(run, data, request):
    """work_dir on a 64 KiB tmpfs, mounted in a private mount namespace (nothing stays mounted);
    one resampled enrolment (160 KB) asked for, so the file that meets the full disk is known."""
    small = run.workdir / "small"
    small.mkdir()
    target = "small/work/resampled/16000/participant/dev/P302.wav"
    snakemake = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(run.workdir),
        "--cores",
        "2",
        target,
        "--config",
        *QUICK_RUN,
        "data_root=data",
        "work_dir=small/work",
    ]
    script = f"mount -t tmpfs -o size=64k tmpfs {small} && exec {' '.join(snakemake)}"
    private = ["unshare", "--user", "--map-root-user", "--mount"]
    if subprocess.run([*private, "true"], check=False).returncode != 0 and os.geteuid() == 0:
        private = ["unshare", "--mount"]  # user namespaces off: root can still mount privately
    result = subprocess.run(
        [*private, "sh", "-c", script], capture_output=True, text=True, cwd=run.workdir, check=False
    )
    assert result.returncode != 0
    # job messages name files as the job sees them: from work_dir
    observe(
        "disk: full while writing",
        request,
        output_of(result),
        "cannot write resampled/16000/participant/dev/P302.wav: No space left on device",
    )
    assert not list(small.iterdir())  # the tmpfs is gone with its namespace


ARGS_CASES = {
    "args yaml: alias bomb": (
        # 9 levels of 9 aliases under args: a few hundred bytes standing for 9**9 values
        "name: passthrough\nargs:\n  a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"  {c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True))
        + "sample_rate: *i\n",
        ("passthrough_args.yaml: its aliases (*name) expand it to", "more than the 100000 allowed"),
    ),
    "args yaml: mem_mb: lots": (
        "name: passthrough\nargs: {}\nresources: {mem_mb: lots}\n",
        ("passthrough_args.yaml: resources.mem_mb must be a whole number >= 1 (MB), got 'lots'",),
    ),
    "args yaml: sample_rate 16": (
        "name: passthrough\nargs: {}\nsample_rate: 16\n",
        ("passthrough_args.yaml: 'sample_rate' must be a whole number of Hz from 8000 to 192000",),
    ),
}


@pytest.mark.parametrize("case", ARGS_CASES)
def test_args_yaml_errors_round_2(case, run, data, request):
    text, needles = ARGS_CASES[case]
    args = data / "passthrough_args.yaml"
    args.write_text(text)
    started = time.monotonic()
    result = run("--config", *QUICK_RUN, "data_root=data", f"enhance_args={args}", check=False)
    assert result.returncode != 0
    assert time.monotonic() - started < 120  # the bomb is refused, not expanded (it took minutes and GBs)
    observe(case, request, output_of(result), *needles, tmp=run.workdir)
    assert not (run.workdir / "work" / "enhanced").exists()


@pytest.mark.parametrize("name", ["..", ".hidden"])
def test_system_name_that_is_not_a_plain_folder_name_is_refused(name, run, data, request):
    result = run("--config", *QUICK_RUN, "data_root=data", f"enhancement_name={name}", check=False)
    assert result.returncode != 0
    assert f"'{name}' does not match" in output_of(result)
    observe(
        f"config: enhancement_name={name}",
        request,
        output_of(result),
        "Failed validating 'pattern' in schema['properties']['enhancement_name']",
    )
    assert not (run.workdir / "work" / "enhanced").exists()


def test_submission_file_no_longer_a_target_fails_validation_and_is_kept(run, data, request):
    """A pid corrected in the manifest (P304 -> P309): the old file stays, and is named."""
    run("--config", *QUICK_RUN, "data_root=data", "devices=[aria]")
    manifest = data / "metadata" / "sessions.dev.csv"
    manifest.write_text(manifest.read_text().replace("P304", "P309"))
    shutil.copy(data / "participant/dev/P304.wav", data / "participant/dev/P309.wav")
    result = run("--config", *QUICK_RUN, "data_root=data", "devices=[aria]", check=False)
    assert result.returncode != 0
    folder = run.workdir / "work/enhanced/passthrough/dev"
    observe(
        "submission: a .wav that is no longer a target",
        request,
        output_of(result),
        "1 .wav file(s) in enhanced/passthrough/dev are not targets of the manifest",
    )
    assert "enhanced/passthrough/dev/dev_02.aria.P304.wav" in output_of(result)
    assert (folder / "dev_02.aria.P304.wav").is_file() and (folder / "dev_02.aria.P309.wav").is_file()
    assert not (folder / "validation.csv").exists()


def file_states(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under ``folder``: (size, mtime_ns, inode), to see that a dry run touches nothing
    (Snakemake's own bookkeeping in work_dir/.snakemake aside: its caches are not outputs)."""
    return {
        str(p): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".snakemake" not in p.relative_to(folder).parts
    }


SUBMITTED = "work/enhanced/passthrough/dev/dev_02.aria.P302.wav"
ITS_OUTPUT = "work/partners/passthrough/dev/dev_02.aria.partner1.wav"


def test_a_submission_file_edited_in_place_is_refused_until_deleted(finished, request):
    """The file is a hard link of the system's output (read-only; root writes anyway):
    the edit is named at the next plan, and deleting both makes the system's output again."""
    work = finished.workdir
    submitted, output = work / SUBMITTED, work / ITS_OUTPUT
    os.link(output, work / "link.part")  # the hard link the run made (the fixture's copy split it)
    os.replace(work / "link.part", submitted)
    assert submitted.stat().st_ino == output.stat().st_ino
    assert not submitted.stat().st_mode & 0o222, "the system's output is left writable"
    original = output.read_bytes()
    with open(submitted, "r+b") as handle:  # the same size: only the time tells
        handle.seek(1000)
        handle.write(b"\x7f" * 4000)
    assert output.read_bytes() != original
    before = file_states(work / "work")
    result = finished("--config", *QUICK_RUN, "--dry-run", check=False)
    assert result.returncode != 0 and file_states(work / "work") == before
    observe(
        "submission: a submission file edited in place (the system's output with it)",
        request,
        output_of(result),
        SUBMITTED,
        "now 2560044 bytes",
    )
    assert "1 submission file(s) of system passthrough changed after the workflow made and validated them" in output_of(
        result
    )
    assert (
        "Delete each file named (and, if you edited it in place, its enhance output under work/partners/)"
        in output_of(result)
    )
    submitted.unlink()
    output.unlink()
    finished("--config", *QUICK_RUN)
    assert output.read_bytes() == original and submitted.read_bytes() == original
    assert "Nothing to be done" in output_of(finished("--config", *QUICK_RUN, "--dry-run"))


def test_a_submission_file_replaced_by_an_older_dated_file_is_refused_until_deleted(finished, request):
    """cp -p / rsync -a / tar x: a 48 kHz float file dated between its making and its validation,
    which Snakemake's mtimes take for up to date."""
    work = finished.workdir
    submitted, output = work / SUBMITTED, work / ITS_OUTPUT
    validation = work / "work/enhanced/passthrough/dev/validation.csv"
    original = output.read_bytes()
    made, validated = submitted.stat().st_mtime_ns, validation.stat().st_mtime_ns
    assert made < validated
    submitted.unlink()
    sf.write(submitted, np.zeros(48000, np.float32), 48000, subtype="FLOAT")
    os.utime(submitted, ns=((made + validated) // 2,) * 2)
    before = file_states(work / "work")
    result = finished("--config", *QUICK_RUN, "--dry-run", check=False)
    assert result.returncode != 0 and file_states(work / "work") == before
    observe(
        "submission: a submission file replaced by an older-dated file (cp -p)",
        request,
        output_of(result),
        SUBMITTED,
        "now 192080 bytes",
    )
    submitted.unlink()
    finished("--config", *QUICK_RUN)
    assert submitted.read_bytes() == original and output.read_bytes() == original
    assert "Nothing to be done" in output_of(finished("--config", *QUICK_RUN, "--dry-run"))


def test_the_workflows_own_remake_of_a_submission_file_is_no_edit(finished):
    """A submission file re-made, its validation not yet run again (a run of that file only,
    or one interrupted between the two): the next run validates it, it does not refuse it."""
    work = finished.workdir
    (work / SUBMITTED).unlink()
    finished(SUBMITTED, "--config", *QUICK_RUN)
    assert (work / SUBMITTED).stat().st_mtime_ns > (
        work / "work/enhanced/passthrough/dev/validation.csv"
    ).stat().st_mtime_ns
    planned = finished.planned_jobs("--config", *QUICK_RUN)  # a refusal would fail here
    assert planned["validate_submission"] == 1 and "submission_file" not in planned and "enhance" not in planned
    finished("--config", *QUICK_RUN)
    assert "Nothing to be done" in output_of(finished("--config", *QUICK_RUN, "--dry-run"))


# ---- the table in tests/README.md -------------------------------------------


def readme_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for line in README.read_text().partition("<!-- table -->")[2].splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[0] not in ("case", "---"):
            rows[cells[0]] = (cells[1].strip("`"), cells[2].strip("`").replace("\\|", "|"))
    return rows


def render(rows: dict[str, tuple[str, str]]) -> str:
    lines = ["| case | test | observed message |", "|---|---|---|"]
    for case in sorted(rows):
        test, message = rows[case]
        lines.append(f"| {case} | `{test}` | `{message.replace('|', chr(92) + '|')}` |")
    return "\n".join(lines) + "\n"


def check_readme_row(case: str, observed: tuple[str, str]) -> None:
    """The case's row of tests/README.md is what the test just saw (each case
    checks its own row, whichever tests run); UPDATE_TESTS_README=1 rewrites it."""
    if os.environ.get("UPDATE_TESTS_README") == "1":
        intro, _, _ = README.read_text().partition("<!-- table -->")
        README.write_text(intro + "<!-- table -->\n" + render({**readme_rows(), case: observed}))
    assert readme_rows().get(case) == observed, f"tests/README.md is stale for {case!r}: {observed}"


def test_readme_table_rows_name_tests_that_exist():
    """Every row of the table names a test of the suite (a renamed or deleted
    test leaves no row behind that nothing checks), and the rows are sorted."""
    rows = readme_rows()
    assert rows and list(rows) == sorted(rows)
    names = set()
    for path in (REPO / "tests").rglob("test_*.py"):
        names |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.M))
    for case, (test, _) in rows.items():
        name = test.split("::")[-1].split("[")[0]
        assert name in names, f"tests/README.md row {case!r} names {test}, which is no test"
