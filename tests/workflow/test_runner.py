"""The tests' own ways of running the workflow say what a plain run says.

Every workflow test starts Snakemake through ``tests/snakemake_server.py`` (a
forked child of a process that imported it once) and works on hard-linked copies
of the demo audio (``linked_copy``). Both save minutes; neither may change what
a test sees.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import LINKED, REPO, STOI_SCORING, linked_copy, own
from snakemake_server import SERVER

pytestmark = pytest.mark.slow


def plain(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snakemake", *args], capture_output=True, text=True, cwd=cwd)


def lines_of(text: str) -> list[str]:
    """A run's log lines, sorted, less what differs between two runs: times, ids, job
    numbers, log file names, and the order of jobs and of the files a reason lists (a
    set's order, which follows the string hashes: they differ from process to process)."""
    text = re.sub(r"\[\w{3} \w{3} +\d+ [\d:]+ \d{4}\]", "[date]", text)
    text = re.sub(r"(Date|Workflow ID|Command): .*", r"\1: -", text)
    text = re.sub(r"jobid: \d+", "jobid: -", text)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d{6}\.\d+\.snakemake\.log", "<log>", text)
    text = re.sub(r"(?m)^(\s+reason: )(.*)$", lambda m: m[1] + "; ".join(map(_sorted_clause, m[2].split("; "))), text)
    return sorted(text.splitlines())


def _sorted_clause(clause: str) -> str:
    """'Missing output files: b, a' -> 'Missing output files: a, b'."""
    label, _, files = clause.rpartition(": ")
    return f"{label}: {', '.join(sorted(files.split(', ')))}" if label else clause


def test_the_forked_snakemake_plans_and_fails_as_a_plain_command(workdir):
    args = ["--snakefile", str(REPO / "Snakefile"), "--cores", "2", f"--configfile={STOI_SCORING}", "--dry-run"]
    env = dict(os.environ)
    forked = SERVER.run(args, workdir, env)
    command = plain(*args, cwd=workdir)
    assert forked.returncode == command.returncode == 0
    assert lines_of(forked.stdout + forked.stderr) == lines_of(command.stdout + command.stderr)
    assert f"Run directory: {workdir}" in forked.stdout + forked.stderr  # not the server's folder

    refused = [*args, "--config", "metrics=[bogus]"]
    forked, command = SERVER.run(refused, workdir, env), plain(*refused, cwd=workdir)
    assert forked.returncode == command.returncode != 0
    assert "unknown metric 'bogus'" in forked.stdout + forked.stderr
    assert lines_of(forked.stdout + forked.stderr) == lines_of(command.stdout + command.stderr)


def test_a_forked_snakemake_past_its_time_is_stopped_and_the_next_call_runs(workdir):
    args = ["--snakefile", str(REPO / "Snakefile"), "--cores", "2", "--dry-run"]
    with pytest.raises(subprocess.TimeoutExpired):
        SERVER.run(args, workdir, dict(os.environ), timeout=0.05)
    assert SERVER.run(["--version"], workdir, dict(os.environ)).stdout.strip().startswith("9.")


def test_a_linked_copy_shares_the_audio_until_a_test_owns_a_file(tmp_path, demo_data):
    copy = linked_copy(demo_data, tmp_path / "data")
    recording, manifest = copy / "aria/dev/dev_02.aria.wav", copy / "metadata/sessions.dev.csv"
    assert os.path.samefile(recording, demo_data / "aria/dev/dev_02.aria.wav")
    assert not os.path.samefile(manifest, demo_data / "metadata/sessions.dev.csv")  # text files are copies
    assert (demo_data / "aria/dev/dev_02.aria.wav").resolve() in LINKED
    before = recording.stat().st_mtime_ns
    own(recording).write_bytes(b"changed")
    assert not os.path.samefile(recording, demo_data / "aria/dev/dev_02.aria.wav")
    assert (demo_data / "aria/dev/dev_02.aria.wav").stat().st_mtime_ns == before
