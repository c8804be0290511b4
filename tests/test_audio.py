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
