import contextlib
import logging
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from enhancement.systems.args import ARGS_DIR, ArgsError
from enhancement.systems.enhance import (
    OutputError,
    SessionDevice,
    SystemFailed,
    enhance_session_device,
    expected_length,
    to_submission_samples,
    write_partner_outputs,
)

WHERE = "dataset dev, session s1, device aria, pid P1"


def test_expected_length_follows_the_raw_recording():
    assert expected_length(48000 * 10, 48000) == 160000
    assert expected_length(100, 48000) == 33
    assert expected_length(44100, 44100) == 16000


def test_squeezes_pads_and_trims_within_tolerance():
    out = to_submission_samples(torch.ones(1, 15900) * 0.5, 16000, "sys", WHERE)
    assert out.shape == (16000,) and out[:15900].min() == 0.5 and not out[15900:].any()
    assert to_submission_samples(np.zeros((16200, 1)), 16000, "sys", WHERE).shape == (16000,)


def test_numpy_output_is_accepted_and_float32():
    out = to_submission_samples(np.zeros(16000, dtype=np.float64), 16000, "sys", WHERE)
    assert out.dtype == np.float32


@pytest.mark.parametrize(
    "output, message",
    [
        (torch.zeros(2, 16000), r"returned shape \(2, 16000\) for dataset dev, session s1, device aria, pid P1"),
        (torch.full((16000,), float("nan")), "returned 16000 NaN/Inf samples"),
        (torch.tensor([0.0, float("inf")] * 8000), "returned 8000 NaN/Inf samples"),
        (torch.zeros(16000 - 321), r"returned 15679 samples .* expected 16000"),
        (torch.zeros(16000 * 3), r"returned 48000 samples"),
    ],
)
def test_bad_outputs_are_errors_naming_system_and_target(output, message):
    with pytest.raises(OutputError, match=message) as err:
        to_submission_samples(output, 16000, "mysys", WHERE)
    assert "mysys" in str(err.value)


def test_out_of_range_samples_are_clipped_with_a_count(caplog):
    values = torch.zeros(16000)
    values[:5] = 3.0
    values[5:7] = -2.0
    with caplog.at_level(logging.WARNING):
        out = to_submission_samples(values, 16000, "sys", WHERE)
    assert out.max() == 1.0 and out.min() == -1.0
    assert "returned 7 samples beyond [-1, 1]; clipped" in caplog.text


def test_grad_and_readonly_outputs_are_handled():
    out = to_submission_samples(torch.zeros(16000, requires_grad=True), 16000, "s", WHERE)
    assert out.shape == (16000,)
    frozen = np.zeros(16000, dtype=np.float32)
    frozen.flags.writeable = False
    assert to_submission_samples(frozen, 16000, "s", WHERE).shape == (16000,)


def make_job(tmp_path, seconds=2.0, channels=7):
    rng = np.random.default_rng(1)
    device = (0.2 * rng.standard_normal((int(seconds * 48000), channels))).astype(np.float32)
    sf.write(tmp_path / "raw.wav", device, 48000, subtype="PCM_16")
    sf.write(tmp_path / "dev16.wav", device[::3], 16000, subtype="PCM_16")
    for pid in ("A", "B", "C"):
        sf.write(tmp_path / f"{pid}.wav", device[:16000, 0], 16000, subtype="PCM_16")
    return dict(
        target=SessionDevice("dev", "s1", "aria"),
        device_wav=tmp_path / "dev16.wav",
        raw_device_wav=tmp_path / "raw.wav",
        enrolment_wavs={p: tmp_path / f"{p}.wav" for p in "ABC"},
        outputs={p: tmp_path / "out" / f"s1.aria.{p}.wav" for p in "ABC"},
    )


def test_passthrough_job_writes_three_exact_files(tmp_path):
    job = make_job(tmp_path)
    enhance_session_device(**job, enhancement_name="passthrough", args_yaml=ARGS_DIR / "passthrough.yaml")
    channel0 = sf.read(tmp_path / "dev16.wav", dtype="int16")[0][:, 0]
    for path in job["outputs"].values():
        info = sf.info(path)
        assert (info.samplerate, info.subtype, info.channels, info.frames) == (16000, "PCM_16", 1, 32000)
        assert np.array_equal(sf.read(path, dtype="int16")[0], channel0)


def test_system_is_built_and_args_checked_before_audio_is_read(tmp_path, clean_registry):
    job = make_job(tmp_path)
    job["device_wav"] = tmp_path / "not_there.wav"  # never reached
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: example\nargs: {output_rate: 16000}\n")
    with pytest.raises(
        ArgsError, match=r"bad.yaml does not fit Example.__init__: missing arg\(s\) \['output_sample_rate'\]"
    ):
        enhance_session_device(**job, enhancement_name="example", args_yaml=bad)
    mismatch = tmp_path / "m.yaml"
    mismatch.write_text("name: baseline\nargs: {}\n")
    with pytest.raises(ArgsError, match="is for system 'baseline', but enhancement_name is 'passthrough'"):
        enhance_session_device(**job, enhancement_name="passthrough", args_yaml=mismatch)


def test_an_args_yaml_changed_after_planning_is_refused_before_any_work(tmp_path):
    """The job's record says what the args were when the run was planned: a yaml
    edited since would make outputs under a record of other args."""
    from enhancement.systems.args import load_args

    job = make_job(tmp_path)
    args = tmp_path / "passthrough.yaml"
    args.write_text("name: passthrough\n")
    planned = load_args(args).meaning()
    args.write_text("# edited after planning\nname: passthrough\nthreads: 2\n")
    with pytest.raises(ArgsError, match=r"passthrough.yaml changed after this run was planned \(for dataset dev"):
        enhance_session_device(**job, enhancement_name="passthrough", args_yaml=args, planned_args=planned)
    assert not (tmp_path / "out").exists()
    # comments, order, and where and how long it runs are not what it says of the outputs
    args.write_text("# a comment\ntime_limit: 30\nresources: {mem_mb: 2000}\nname: passthrough\n")
    enhance_session_device(**job, enhancement_name="passthrough", args_yaml=args, planned_args=planned)
    assert all(p.exists() for p in job["outputs"].values())


def test_a_raising_system_names_the_target(tmp_path, clean_registry):
    from enhancement.registry import register_enhancement

    @register_enhancement("raises")
    class Raises:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            if kwargs["pid"] == "B":
                raise RuntimeError("out of ideas")
            return device_audio[0]

    args = tmp_path / "raises.yaml"
    args.write_text("name: raises\n")
    job = make_job(tmp_path)
    with pytest.raises(
        SystemFailed,
        match="raises.process_session failed for dataset dev, session s1, "
        "device aria, pid B: RuntimeError: out of ideas",
    ):
        enhance_session_device(**job, enhancement_name="raises", args_yaml=args)
    assert not job["outputs"]["B"].exists()


def test_each_output_is_released_before_the_next_partner_is_processed(tmp_path, clean_registry):
    """A job holds the session and one output at a time, not two."""
    import weakref

    from enhancement.registry import register_enhancement

    previous = []

    @register_enhancement("fresh")
    class Fresh:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            assert all(ref() is None for ref in previous), "the previous partner's output is still alive"
            output = device_audio[0] * 0.5
            previous.append(weakref.ref(output))
            return output

    args = tmp_path / "fresh.yaml"
    args.write_text("name: fresh\n")
    job = make_job(tmp_path)
    write_partner_outputs(**job, enhancement_name="fresh", args_yaml=args)
    assert len(previous) == 3 and all(p.exists() for p in job["outputs"].values())


def test_process_partners_is_preferred_and_called_once(tmp_path, clean_registry):
    from enhancement.registry import register_enhancement

    calls = []

    @register_enhancement("together")
    class Together:
        def process_session(self, *args, **kwargs):
            raise AssertionError("process_session must not be called when process_partners exists")

        def process_partners(self, device_audio, device_fs, enrolments, kwargs=None):
            calls.append((sorted(enrolments), kwargs))
            assert all(fs == 16000 and audio.shape == (1, 16000) for audio, fs in enrolments.values())
            return {pid: device_audio[0] * gain for pid, gain in zip("ABC", (0.5, 0.25, 0.125))}

    args = tmp_path / "together.yaml"
    args.write_text("name: together\n")
    job = make_job(tmp_path)
    write_partner_outputs(**job, enhancement_name="together", args_yaml=args)
    assert calls == [(["A", "B", "C"], {"dataset": "dev", "session": "s1", "device": "aria"})]
    channel0 = sf.read(tmp_path / "dev16.wav", dtype="float32")[0][:, 0]
    for pid, gain in zip("ABC", (0.5, 0.25, 0.125)):
        written = sf.read(job["outputs"][pid], dtype="float32")[0]
        assert np.abs(written - gain * channel0).max() <= 1 / 32768


def test_process_partners_missing_pid_and_failure_name_the_target(tmp_path, clean_registry):
    from enhancement.registry import register_enhancement

    @register_enhancement("short")
    class Short:
        def process_session(self, *args, **kwargs):
            raise AssertionError("not used")

        def process_partners(self, device_audio, device_fs, enrolments, kwargs=None):
            if kwargs["session"] == "boom":
                raise RuntimeError("no memory left")
            return {"A": device_audio[0], "C": device_audio[0]}

    args = tmp_path / "short.yaml"
    args.write_text("name: short\n")
    job = make_job(tmp_path)
    with pytest.raises(
        OutputError,
        match=r"short.process_partners returned \['A', 'C'\] for dataset "
        r"dev, session s1, device aria; expected .* each of \['A', 'B', 'C'\]",
    ):
        enhance_session_device(**job, enhancement_name="short", args_yaml=args)
    assert not any(p.exists() for p in job["outputs"].values())
    job["target"] = SessionDevice("dev", "boom", "aria")
    with pytest.raises(
        SystemFailed,
        match="short.process_partners failed for dataset dev, session boom, device aria: RuntimeError: no memory left",
    ):
        enhance_session_device(**job, enhancement_name="short", args_yaml=args)


def test_each_partner_sees_the_device_audio_as_read(tmp_path, clean_registry, caplog):
    """A plugin that changes its input in place does not change what the next partner gets."""
    from enhancement.registry import register_enhancement

    seen = []

    @register_enhancement("scribbler")
    class Scribbler:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            seen.append(device_audio.clone())
            device_audio.mul_(0.5)  # the bug under test
            return device_audio[0].clone()

    args = tmp_path / "scribbler.yaml"
    args.write_text("name: scribbler\n")
    job = make_job(tmp_path)
    with caplog.at_level(logging.WARNING):
        write_partner_outputs(**job, enhancement_name="scribbler", args_yaml=args)
    assert len(seen) == 3
    assert torch.equal(seen[0], seen[1]) and torch.equal(seen[0], seen[2])
    assert caplog.text.count("scribbler changed the device audio in place; reading") == 2


@pytest.mark.parametrize("numpy_audio", [False, True], ids=["tensors", "audio_as_numpy"])
@pytest.mark.parametrize("method", ["process_session", "process_partners"])
def test_a_system_gets_tensors_unless_it_asks_for_numpy(tmp_path, clean_registry, caplog, method, numpy_audio):
    """`audio_as_numpy = True` gives a system numpy arrays (its job imports no torch);
    every other system gets tensors, as the plugin API says; in-place changes are
    caught either way."""
    from enhancement.registry import register_enhancement

    seen = []

    class Recorder:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            seen.append((type(device_audio), type(spkid_audio), spkid_audio.shape))
            out = device_audio[0] * 1.0
            device_audio[0] *= 0.5  # changed in place: read again for the next partner
            return out

        def process_partners(self, device_audio, device_fs, enrolments, kwargs=None):
            return {pid: self.process_session(device_audio, device_fs, *enrolments[pid]) for pid in "ABC"}

    if method == "process_session":
        del Recorder.process_partners
    if numpy_audio:
        Recorder.audio_as_numpy = True
    register_enhancement("recorder")(Recorder)
    args = tmp_path / "recorder.yaml"
    args.write_text("name: recorder\n")
    job = make_job(tmp_path)
    with caplog.at_level(logging.INFO):
        write_partner_outputs(**job, enhancement_name="recorder", args_yaml=args)
    kind = np.ndarray if numpy_audio else torch.Tensor
    assert seen[0] == (kind, kind, (1, 16000)) and len(seen) == 3
    assert ("(torch not imported)" in caplog.text) is numpy_audio
    assert ("torch uses 1 thread(s)" in caplog.text) is not numpy_audio
    if method == "process_session":
        assert caplog.text.count("recorder changed the device audio in place; reading") == 2
        channel0 = sf.read(tmp_path / "dev16.wav", dtype="float32")[0][:, 0]
        for path in job["outputs"].values():  # each partner saw the audio as read
            assert np.abs(sf.read(path, dtype="float32")[0] - channel0).max() <= 1 / 32768


def test_the_passthrough_job_never_imports_torch(tmp_path):
    """The built-in passthrough takes numpy audio: its job (the work, in a fresh
    interpreter) does not pay torch's import, about 2 CPU s."""
    job = make_job(tmp_path)
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from enhancement.systems.args import ARGS_DIR\n"
        "from enhancement.systems.enhance import SessionDevice, write_partner_outputs\n"
        f"t = Path({str(tmp_path)!r})\n"
        "write_partner_outputs(SessionDevice('dev', 's1', 'aria'), t / 'dev16.wav', t / 'raw.wav',\n"
        "    {p: t / f'{p}.wav' for p in 'ABC'}, {p: t / 'out' / f'{p}.wav' for p in 'ABC'},\n"
        "    'passthrough', ARGS_DIR / 'passthrough.yaml', plugin_folders=[])\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    channel0 = sf.read(job["device_wav"], dtype="int16")[0][:, 0]
    assert np.array_equal(sf.read(tmp_path / "out" / "B.wav", dtype="int16")[0], channel0)


def test_integer_output_is_an_error_not_a_square_wave():
    with pytest.raises(
        OutputError,
        match=r"sys returned integer samples \(int16\) for dataset dev.*int16 PCM "
        r"divided by 32768",
    ):
        to_submission_samples(np.full(16000, 1000, dtype=np.int16), 16000, "sys", WHERE)
    with pytest.raises(OutputError, match="integer samples"):
        to_submission_samples(torch.zeros(16000, dtype=torch.int32), 16000, "sys", WHERE)


def test_half_precision_tensors_are_read_and_meta_tensors_named():
    out = to_submission_samples(torch.full((16000,), 0.25, dtype=torch.bfloat16), 16000, "sys", WHERE)
    assert out.dtype == np.float32 and np.all(out == 0.25)
    out = to_submission_samples(torch.full((16000,), 0.5, dtype=torch.float16), 16000, "sys", WHERE)
    assert np.all(out == 0.5)
    with pytest.raises(OutputError, match=f"sys returned a 'meta' tensor \\(shape only, no data\\) for {WHERE}"):
        to_submission_samples(torch.zeros(16000, device="meta"), 16000, "sys", WHERE)
    with pytest.raises(OutputError, match="sys returned complex64 data"):
        to_submission_samples(torch.zeros(16000, dtype=torch.complex64), 16000, "sys", WHERE)


def test_a_system_calling_sys_exit_is_named(tmp_path, clean_registry):
    from enhancement.registry import register_enhancement

    @register_enhancement("quitter")
    class Quitter:
        def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
            raise SystemExit(0)

    args = tmp_path / "quitter.yaml"
    args.write_text("name: quitter\n")
    job = make_job(tmp_path)
    with pytest.raises(
        SystemFailed,
        match=r"quitter.process_session failed for dataset dev, session s1, device "
        r"aria, pid A: it called sys.exit\(0\); a system must return",
    ):
        enhance_session_device(**job, enhancement_name="quitter", args_yaml=args)


def test_an_enrolment_too_short_is_named_before_any_system_runs(tmp_path):
    """Read raw (a 48 kHz system), no resample job has checked it: the job does."""
    from enhancement.data.audio import AudioError

    job = make_job(tmp_path)
    sf.write(tmp_path / "B.wav", np.zeros(1, dtype=np.float32), 48000, subtype="PCM_16")
    with pytest.raises(AudioError, match=r"B.wav is only 0.000 s long \(1 frame\(s\) at 48000 Hz\)"):
        enhance_session_device(**job, enhancement_name="passthrough", args_yaml=ARGS_DIR / "passthrough.yaml")
    assert not any(p.exists() for p in job["outputs"].values())


def plugin_job(tmp_path, monkeypatch, name: str, code: str, args: str):
    """A job of a plugin written by the test, found through ECHIPLUGINS."""
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / f"{name}.py").write_text(code)
    (plugins / f"{name}.yaml").write_text(f"name: {name}\nargs: {args}\n")
    monkeypatch.setenv("ECHIPLUGINS", str(plugins))
    return make_job(tmp_path), plugins / f"{name}.yaml"


WANDERER = """
import os
from enhancement.registry import register_enhancement

@register_enhancement("wanderer")
class Wanderer:
    def __init__(self, where: str) -> None:
        self.where = where
        os.chdir(where)

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        os.chdir(self.where)
        return device_audio[0]
"""


def test_a_system_changing_the_working_directory_moves_no_file(tmp_path, monkeypatch, clean_registry):
    """Relative paths, as Snakemake gives them: the job's files stay where the job was started."""
    from enhancement.workflow.joblog import job_logging

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    job, args = plugin_job(tmp_path, monkeypatch, "wanderer", WANDERER, f"{{where: {elsewhere}}}")
    monkeypatch.chdir(tmp_path)
    relative = {
        key: (
            value.relative_to(tmp_path)
            if hasattr(value, "relative_to")
            else {k: v.relative_to(tmp_path) for k, v in value.items()}
            if isinstance(value, dict)
            else value
        )
        for key, value in job.items()
    }
    with job_logging("job.log"):
        enhance_session_device(**relative, enhancement_name="wanderer", args_yaml=args.relative_to(tmp_path))
    assert list(elsewhere.iterdir()) == []
    channel0 = sf.read(tmp_path / "dev16.wav", dtype="int16")[0][:, 0]
    for path in job["outputs"].values():
        assert np.array_equal(sf.read(path, dtype="int16")[0], channel0)
    log = (tmp_path / "job.log").read_text()
    assert f"building wanderer changed the working directory to {elsewhere}; changed it back to {tmp_path}" in log
    for pid in "ABC":
        assert (
            f"wanderer.process_session for dataset dev, session s1, device aria, pid {pid} changed the "
            f"working directory to {elsewhere}; changed it back to {tmp_path}"
        ) in log


SPAWNER = """
import multiprocessing
import subprocess
import time
from pathlib import Path

from enhancement.registry import register_enhancement


def nap():
    time.sleep(600)


@register_enhancement("spawner")
class Spawner:
    def __init__(self, pid_file: str, fail: bool) -> None:
        self.pid_file = Path(pid_file)
        self.fail = fail

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        worker = multiprocessing.get_context("fork").Process(target=nap, daemon=True)
        worker.start()
        helper = subprocess.Popen(["sleep", "600"])
        with self.pid_file.open("a") as pids:
            pids.write(f"{worker.pid} {helper.pid}\\n")
        if self.fail:
            raise RuntimeError("gave up")
        return device_audio[0]
"""


def running(pid: int) -> bool:
    """Is ``pid`` a live process (a zombie waiting for its reaper is not)?"""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.parametrize("fail", [False, True], ids=["returns", "raises"])
def test_processes_a_system_starts_end_with_the_job(tmp_path, monkeypatch, clean_registry, fail):
    from enhancement.workflow.joblog import job_logging

    pid_file = tmp_path / "pids.txt"
    job, args = plugin_job(tmp_path, monkeypatch, "spawner", SPAWNER, f"{{pid_file: {pid_file}, fail: {fail}}}")
    with job_logging(tmp_path / "job.log"), contextlib.ExitStack() as stack:
        if fail:
            stack.enter_context(pytest.raises(SystemFailed, match="RuntimeError: gave up"))
        enhance_session_device(**job, enhancement_name="spawner", args_yaml=args)
    pids = [int(p) for p in pid_file.read_text().split()]
    assert len(pids) == (2 if fail else 6)
    deadline = time.monotonic() + 10
    while any(map(running, pids)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if running(pid)], "a process the system started outlived the job"
    log = (tmp_path / "job.log").read_text()
    assert re.search(
        rf"spawner on dataset dev, session s1, device aria: {len(pids)} process\(es\) the system "
        r"started were still running when its work ended: \d+ \(python[^)]*\), \d+ \(sleep\)",
        log,
    )
    if not fail:
        assert all(p.exists() for p in job["outputs"].values())
