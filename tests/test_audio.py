import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
import soxr

from enhancement.audio import AudioError, atomic_output, read_channels_first, resample_file


def noise_wav(path, frames, channels, rate=48000, seed=0):
    rng = np.random.default_rng(seed)
    data = (0.3 * rng.standard_normal((frames, channels))).astype(np.float32)
    sf.write(path, data, rate, subtype="PCM_16")
    return sf.read(path, dtype="float32", always_2d=True)[0]


@pytest.mark.parametrize("frames", [1, 1000, 48000 * 3 + 7, 200_001])
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
        "import sys; from enhancement.audio import resample_file; "
        f"resample_file({str(tmp_path / 'in.wav')!r}, {str(tmp_path / 'o.wav')!r}, 16000); "
        "sys.exit('torch imported' if 'torch' in sys.modules else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "o.wav").exists()


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.wav"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


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
    with pytest.raises(AudioError, match=r"cut.wav is truncated: its header declares 192000 bytes of audio "
                                         r"but only 95978 are in the file; re-copy"):
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


def test_leftovers_of_a_killed_writer_are_removed(tmp_path):
    stale = tmp_path / ".out.wav.abc123.part"
    stale.write_bytes(b"half a file")
    other = tmp_path / ".other.wav.abc123.part"
    other.write_bytes(b"someone else's")
    with atomic_output(tmp_path / "out.wav") as tmp:
        tmp.write_bytes(b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.wav.abc123.part", "out.wav"]


def test_unwritable_output_folder_is_named(tmp_path):
    (tmp_path / "afile").write_text("")
    with pytest.raises(OSError, match=r"cannot write o.wav in .*afile/sub: .*check that the folder \(work_dir\)"):
        with atomic_output(tmp_path / "afile" / "sub" / "o.wav"):
            pass


def test_outputs_get_normal_permissions(tmp_path):
    import os

    mask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "o.wav") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "o.wav").stat().st_mode & 0o777 == 0o644
