import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import soxr

from enhancement.data.audio import (
    MIN_ENROLMENT_SECONDS,
    AudioError,
    check_finite,
    read_channels_first,
    resample_file,
)


def noise_wav(path, frames, channels, rate=48000, seed=0):
    rng = np.random.default_rng(seed)
    data = (0.3 * rng.standard_normal((frames, channels))).astype(np.float32)
    sf.write(path, data, rate, subtype="PCM_16")
    return sf.read(path, dtype="float32", always_2d=True)[0]


@pytest.mark.parametrize("frames", [2, 1000, 48000 * 3 + 7, 200_001])
def test_streaming_resample_equals_one_shot(tmp_path, frames):
    original = noise_wav(tmp_path / "in.wav", frames, 3)
    n = resample_file(tmp_path / "in.wav", tmp_path / "out.wav", 16000, block_frames=4096)
    ours, rate = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    reference = np.clip(soxr.resample(original, 48000, 16000), -1, 1)
    assert rate == 16000 and sf.info(tmp_path / "out.wav").subtype == "PCM_16"
    assert ours.shape == reference.shape and n == len(reference)
    assert np.abs(ours - reference).max(initial=0) < 1e-4


def test_resample_to_other_rates(tmp_path):
    original = noise_wav(tmp_path / "in.wav", 44100, 2, rate=44100)
    resample_file(tmp_path / "in.wav", tmp_path / "out.wav", 24000)
    ours = sf.read(tmp_path / "out.wav", dtype="float32")[0]
    assert np.abs(ours - np.clip(soxr.resample(original, 44100, 24000), -1, 1)).max() < 1e-4


def test_resample_job_does_not_import_torch(tmp_path):
    noise_wav(tmp_path / "in.wav", 4800, 2)
    code = (
        "import sys; from enhancement.data.audio import resample_file; "
        f"resample_file({str(tmp_path / 'in.wav')!r}, {str(tmp_path / 'o.wav')!r}, 16000); "
        "sys.exit('torch imported' if 'torch' in sys.modules else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "o.wav").exists()


def test_resample_of_missing_or_bad_file_names_it(tmp_path):
    with pytest.raises(AudioError, match="missing.wav does not exist"):
        resample_file(tmp_path / "missing.wav", tmp_path / "o.wav", 16000)
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="text.wav is not a readable audio file"):
        resample_file(tmp_path / "text.wav", tmp_path / "o.wav", 16000)
    assert not (tmp_path / "o.wav").exists()


def test_read_channels_first_is_contiguous_float32(tmp_path):
    original = noise_wav(tmp_path / "in.wav", 70_000, 4)
    audio, rate = read_channels_first(tmp_path / "in.wav")
    assert audio.shape == (4, 70_000) and audio.dtype == np.float32 and audio.flags.c_contiguous
    assert np.array_equal(audio, original.T) and rate == 48000


def test_truncated_wav_is_detected_although_libsndfile_reads_it(tmp_path):
    noise_wav(tmp_path / "full.wav", 48000, 2)
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 2])
    assert sf.info(tmp_path / "cut.wav").frames > 0  # the trap
    with pytest.raises(
        AudioError,
        match=r"cut.wav is truncated: its header declares 192000 bytes of audio "
        r"but only 95978 are in the file; re-copy",
    ):
        resample_file(tmp_path / "cut.wav", tmp_path / "o.wav", 16000)
    assert not (tmp_path / "o.wav").exists()


def test_zero_length_and_wrong_channels_are_errors(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros((0, 2), np.float32), 48000)
    with pytest.raises(AudioError, match=r"empty.wav has no audio \(0 frames\)"):
        resample_file(tmp_path / "empty.wav", tmp_path / "o.wav", 16000)
    noise_wav(tmp_path / "four.wav", 4800, 4)
    with pytest.raises(AudioError, match="four.wav has 4 channels; 7 were expected for this device"):
        resample_file(tmp_path / "four.wav", tmp_path / "o.wav", 16000, expected_channels=7)


def test_unexpected_rate_is_resampled_from_the_actual_rate_with_a_warning(tmp_path, caplog):
    original = noise_wav(tmp_path / "cd.wav", 44100, 1, rate=44100)
    with caplog.at_level("WARNING"):
        resample_file(tmp_path / "cd.wav", tmp_path / "o.wav", 16000, expected_rate=48000)
    assert "cd.wav is at 44100 Hz, not the expected 48000 Hz" in caplog.text
    assert sf.info(tmp_path / "o.wav").frames == len(soxr.resample(original, 44100, 16000)) == 16000


# ---- inputs that libsndfile would read as a shorter or different recording ----


def patched(path, offset, value, size=4):
    data = bytearray(path.read_bytes())
    data[offset : offset + size] = value.to_bytes(size, "little")
    path.write_bytes(bytes(data))
    return path


def test_wav_whose_header_leaves_the_length_unknown_is_refused(tmp_path):
    noise_wav(tmp_path / "rec.wav", 48000, 2)
    data_at = (tmp_path / "rec.wav").read_bytes().find(b"data")
    patched(patched(tmp_path / "rec.wav", 4, 0xFFFFFFFF), data_at + 4, 0xFFFFFFFF)
    cut = tmp_path / "rec.wav"
    cut.write_bytes(cut.read_bytes()[:100_000])
    assert 0 < sf.info(cut).frames < 48000  # the trap: read as a shorter recording
    with pytest.raises(AudioError, match=r"rec.wav: its header does not say how long the audio is"):
        resample_file(cut, tmp_path / "o.wav", 16000)
    assert not (tmp_path / "o.wav").exists()


def test_truncated_rf64_is_detected(tmp_path):
    data = (0.1 * np.ones((48000, 2))).astype(np.float32)
    sf.write(tmp_path / "full.wav", data, 48000, subtype="PCM_16", format="RF64")
    whole = (tmp_path / "full.wav").read_bytes()
    assert whole[:4] == b"RF64"
    (tmp_path / "cut.wav").write_bytes(whole[: len(whole) // 2])
    assert 0 < sf.info(tmp_path / "cut.wav").frames < 48000  # the trap
    with pytest.raises(AudioError, match=r"cut.wav is truncated: its header declares 192000 bytes"):
        read_channels_first(tmp_path / "cut.wav")
    assert read_channels_first(tmp_path / "full.wav")[0].shape == (2, 48000)  # a whole RF64 is fine


def test_truncated_flac_named_wav_names_the_file(tmp_path):
    noise = (0.1 * np.random.default_rng(1).standard_normal((48000, 2))).astype(np.float32)
    sf.write(tmp_path / "full.flac", noise, 48000, format="FLAC")
    whole = (tmp_path / "full.flac").read_bytes()
    (tmp_path / "rec.wav").write_bytes(whole[: len(whole) // 2])
    for read in (
        lambda: resample_file(tmp_path / "rec.wav", tmp_path / "o.wav", 16000),
        lambda: read_channels_first(tmp_path / "rec.wav"),
    ):
        with pytest.raises(
            AudioError, match=r"rec.wav could not be read after frame \d+ of 48000 .*damaged or truncated"
        ):
            read()
    assert not (tmp_path / "o.wav").exists()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_a_float_recording_names_it(tmp_path, bad):
    audio = np.zeros((100_000, 3), np.float32)
    audio[70_000, 2] = bad
    sf.write(tmp_path / "rec.wav", audio, 48000, subtype="FLOAT")
    expected = r"rec.wav holds NaN or Inf samples \(the first at frame 70000, 1.458 s in\)"
    with pytest.raises(AudioError, match=expected):
        resample_file(tmp_path / "rec.wav", tmp_path / "o.wav", 16000, block_frames=4096)
    with pytest.raises(AudioError, match=expected):
        read_channels_first(tmp_path / "rec.wav")
    assert not (tmp_path / "o.wav").exists()


def test_check_finite_accepts_finite_blocks_and_names_the_frame(tmp_path):
    check_finite(np.zeros((10, 2), np.float32), "x.wav")
    with pytest.raises(AudioError, match=r"x.wav holds NaN or Inf samples \(the first at frame 13\)"):
        check_finite(np.array([0.0, 0.1, np.nan]), "x.wav", first_frame=11)


def test_too_short_input_names_the_raw_file_not_the_resampled_one(tmp_path):
    sf.write(tmp_path / "P1.wav", np.zeros(1, np.float32), 48000, subtype="PCM_16")
    with pytest.raises(AudioError, match=r"P1.wav is too short to resample: 1 frame\(s\) at 48000 Hz give no audio"):
        resample_file(tmp_path / "P1.wav", tmp_path / "o.wav", 16000)
    sf.write(tmp_path / "P2.wav", np.zeros(4800, np.float32), 48000, subtype="PCM_16")
    with pytest.raises(
        AudioError,
        match=r"P2.wav is only 0.100 s long \(4800 frame\(s\) at 48000 Hz\); "
        r"at least 0.5 s are needed",
    ):
        resample_file(tmp_path / "P2.wav", tmp_path / "o.wav", 16000, min_seconds=MIN_ENROLMENT_SECONDS)
    assert not (tmp_path / "o.wav").exists()
    assert resample_file(tmp_path / "P2.wav", tmp_path / "o.wav", 16000) == 1600  # no minimum by default


# ---- a full disk --------------------------------------------------------------

FILL_DISK = """
import sys
import numpy as np
from enhancement.data.audio import resample_file, write_pcm16_atomically
from enhancement.data.submission import Expected, validate_submission

folder, raw = sys.argv[1], sys.argv[2]
attempts = {
    "write_pcm16_atomically": lambda: write_pcm16_atomically(folder + "/out.wav", np.zeros(100_000), 16000),
    "resample_file": lambda: resample_file(raw, folder + "/res.wav", 16000),
}
for name, attempt in attempts.items():
    try:
        attempt()
        print(name, "wrote it")
    except Exception as exc:
        print(name, type(exc).__name__, exc)
import os
print("left:", sorted(os.listdir(folder)))
"""


def test_disk_full_says_no_space_left_and_names_the_path(tmp_path):
    """A real full disk: a 64 KiB tmpfs in a private mount namespace (no root needed
    where user namespaces are allowed; nothing stays mounted)."""
    noise_wav(tmp_path / "raw.wav", 480_000, 2)
    (tmp_path / "small").mkdir()
    (tmp_path / "fill.py").write_text(FILL_DISK)
    mount = f"mount -t tmpfs -o size=64k tmpfs {tmp_path / 'small'}"
    run = f"{mount} && exec {sys.executable} {tmp_path / 'fill.py'} {tmp_path / 'small'} {tmp_path / 'raw.wav'}"
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", run],
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 and os.geteuid() == 0:  # user namespaces off: root can still mount privately
        result = subprocess.run(["unshare", "--mount", "sh", "-c", run], check=False, capture_output=True, text=True)
    assert result.returncode == 0, f"could not run on a small tmpfs:\n{result.stderr}"
    lines = result.stdout.splitlines()
    for name, target in (("write_pcm16_atomically", "out.wav"), ("resample_file", "res.wav")):
        line = next(ln for ln in lines if ln.startswith(name))
        assert f"OutputWriteError cannot write {tmp_path / 'small' / target}: No space left on device" in line, line
    assert lines[-1] == "left: []"  # no partial file stays behind
