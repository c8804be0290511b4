"""The plan-time check that submission files are what the workflow made and validated."""

import os

import pytest

from enhancement.data.outputs import (
    SubmissionChanged,
    changed_since_validated,
    check_submission_unchanged,
    forget_validated,
    make_read_only,
    record_validated,
)


def make_files(tmp_path, n=3):
    files = []
    for i in range(n):
        path = tmp_path / f"s.aria.P{i}.wav"
        path.write_bytes(b"RIFF" + bytes(100))
        files.append(path)
    return files


def test_files_as_validated_pass_and_a_changed_time_or_size_is_named(tmp_path):
    files = make_files(tmp_path)
    record = tmp_path / "record.json"
    record_validated(record, files)
    assert changed_since_validated(record, files) == []
    stat = files[0].stat()
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns - 1))  # older-dated, same size
    files[1].write_bytes(b"RIFF" + bytes(101))
    changed = changed_since_validated(record, files)
    assert [line.split(" (")[0].strip() for line in changed] == [str(files[0]), str(files[1])]
    assert "now 105 bytes" in changed[1] and "validated: 104 bytes" in changed[1]
    with pytest.raises(
        SubmissionChanged,
        match=r"2 submission file\(s\) of system sys changed after the workflow "
        r"made and validated them",
    ):
        check_submission_unchanged([(record, files)], "sys")


def test_missing_files_and_a_forgotten_record_are_not_compared(tmp_path):
    files = make_files(tmp_path)
    record = tmp_path / "record.json"
    record_validated(record, files)
    files[0].unlink()  # Snakemake makes it again
    assert changed_since_validated(record, files) == []
    files[1].write_bytes(b"edited")
    forget_validated(record)  # what a re-make does first
    assert changed_since_validated(record, files) == []
    check_submission_unchanged([(record, files)], "sys")


def test_outputs_are_made_read_only(tmp_path):
    files = make_files(tmp_path, 1)
    os.chmod(files[0], 0o664)
    make_read_only(files)
    assert files[0].stat().st_mode & 0o777 == 0o444
