import csv

import numpy as np
import pytest
import soundfile as sf

from enhancement.submission import Expected, SubmissionError, validate_submission


def write(path, frames, rate=16000, subtype="PCM_16", channels=1):
    sf.write(path, np.zeros((frames, channels), np.float32), rate, subtype=subtype)
    return path


def test_valid_submission_writes_summary(tmp_path):
    files = [Expected(write(tmp_path / f"s.aria.P{i}.wav", 1600), 1600) for i in range(3)]
    validate_submission(files, tmp_path / "validation.csv")
    rows = list(csv.DictReader(open(tmp_path / "validation.csv")))
    assert [r["status"] for r in rows] == ["ok"] * 3 and rows[0]["file"] == "s.aria.P0.wav"


def test_every_bad_file_is_listed(tmp_path):
    files = [
        Expected(write(tmp_path / "ok.wav", 1600), 1600),
        Expected(write(tmp_path / "rate.wav", 1600, rate=48000), 1600),
        Expected(write(tmp_path / "float.wav", 1600, subtype="FLOAT"), 1600),
        Expected(write(tmp_path / "stereo.wav", 1600, channels=2), 1600),
        Expected(write(tmp_path / "short.wav", 1599), 1600),
        Expected(tmp_path / "missing.wav", 1600),
    ]
    (tmp_path / "junk.wav").write_text("nope")
    files.append(Expected(tmp_path / "junk.wav", 1600))
    with pytest.raises(SubmissionError) as err:
        validate_submission(files, tmp_path / "validation.csv")
    message = str(err.value)
    assert message.startswith("6 of 7 submission files are invalid")
    for expected in ["rate.wav: 48000 Hz, expected 16000", "float.wav: subtype FLOAT, expected PCM_16",
                     "stereo.wav: 2 channels, expected 1", "short.wav: 1599 samples, expected 1600",
                     "missing.wav: missing", "junk.wav: unreadable"]:
        assert expected in message
    assert "ok.wav" not in message
    assert not (tmp_path / "validation.csv").exists()
