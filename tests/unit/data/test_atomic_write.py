"""Outputs written whole or not at all, with the permissions of any new file."""

import os

import pytest

from enhancement.data.atomic_write import atomic_output, write_text_atomically


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "out.wav"
    with pytest.raises(RuntimeError):
        with atomic_output(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert list(tmp_path.iterdir()) == []


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
    mask = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "o.wav") as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(mask)
    assert (tmp_path / "o.wav").stat().st_mode & 0o777 == 0o644


def test_text_is_written_whole_or_not_at_all(tmp_path):
    target = tmp_path / "report.json"
    mask = os.umask(0o022)
    try:
        assert write_text_atomically(target, "{}\n") == target
        with pytest.raises(UnicodeEncodeError):  # fails in the middle of the write
            write_text_atomically(target, "x" * 100_000 + "\ud800")
    finally:
        os.umask(mask)
    assert target.read_text() == "{}\n"  # the finished file stays, not a partial one
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left
    assert target.stat().st_mode & 0o777 == 0o644
