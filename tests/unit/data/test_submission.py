import csv

import numpy as np
import pytest
import soundfile as sf

from enhancement.data.submission import Expected, SubmissionError, validate_submission


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
    for expected in [
        "rate.wav: 48000 Hz, expected 16000",
        "float.wav: subtype FLOAT, expected PCM_16",
        "stereo.wav: 2 channels, expected 1",
        "short.wav: 1599 samples, expected 1600",
        "missing.wav: missing",
        "junk.wav: unreadable",
    ]:
        assert expected in message
    assert "ok.wav" not in message
    assert not (tmp_path / "validation.csv").exists()


def test_wav_files_that_are_not_targets_fail_validation_and_stay(tmp_path):
    files = [Expected(write(tmp_path / f"s.aria.P{i}.wav", 1600), 1600) for i in range(3)]
    write(tmp_path / "s.aria.OLD.wav", 1600)  # a pid since corrected in the manifest
    write(tmp_path / "notes.WAV", 16)
    (tmp_path / "metrics.csv").write_text("not audio\n")  # other files are no concern
    with pytest.raises(SubmissionError) as err:
        validate_submission(files, tmp_path / "validation.csv")
    message = str(err.value)
    assert message.startswith(f"2 .wav file(s) in {tmp_path} are not targets of the manifest")
    assert f"  {tmp_path / 'notes.WAV'}\n  {tmp_path / 's.aria.OLD.wav'}" in message
    assert "s.aria.P0.wav" not in message
    assert (tmp_path / "s.aria.OLD.wav").exists() and (tmp_path / "notes.WAV").exists()
    assert not (tmp_path / "validation.csv").exists()
    (tmp_path / "s.aria.OLD.wav").unlink()
    (tmp_path / "notes.WAV").unlink()
    validate_submission(files, tmp_path / "validation.csv")
    assert (tmp_path / "validation.csv").exists()


def test_bad_and_unexpected_files_are_listed_together(tmp_path):
    files = [Expected(write(tmp_path / "a.wav", 1599), 1600)]
    write(tmp_path / "b.wav", 1600)
    with pytest.raises(
        SubmissionError,
        match=r"(?s)1 of 1 submission files are invalid.*a.wav: 1599 samples"
        r".*1 .wav file\(s\) in .* are not targets.*b.wav",
    ):
        validate_submission(files, tmp_path / "validation.csv")


def test_an_extra_wav_that_is_a_symbolic_link_is_refused_like_a_copy(tmp_path):
    """P999.wav -> a target: still a file the evaluation would take for a submission file."""
    files = [Expected(write(tmp_path / f"s.aria.P{i}.wav", 1600), 1600) for i in range(3)]
    (tmp_path / "s.aria.P999.wav").symlink_to(tmp_path / "s.aria.P0.wav")
    (tmp_path / "s.aria.P998.wav").symlink_to("s.aria.P1.wav")  # relative target
    (tmp_path / "dangling.wav").symlink_to(tmp_path / "nowhere.wav")
    with pytest.raises(SubmissionError) as err:
        validate_submission(files, tmp_path / "validation.csv")
    message = str(err.value)
    assert message.startswith(f"3 .wav file(s) in {tmp_path} are not targets of the manifest")
    for name in ("dangling.wav", "s.aria.P998.wav", "s.aria.P999.wav"):
        assert f"  {tmp_path / name}" in message
    assert not (tmp_path / "validation.csv").exists()


def test_submission_files_that_are_symbolic_links_are_targets(tmp_path):
    """A folder of links made by another tool (scored with submission_dir) is no extra."""
    store = tmp_path / "store"
    store.mkdir()
    folder = tmp_path / "submission"
    folder.mkdir()
    files = []
    for i in range(3):
        (folder / f"s.aria.P{i}.wav").symlink_to(write(store / f"s.aria.P{i}.wav", 1600))
        files.append(Expected(folder / f"s.aria.P{i}.wav", 1600))
    validate_submission(files, tmp_path / "validation.csv", folder)
    assert (tmp_path / "validation.csv").exists()
