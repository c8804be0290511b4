"""The enhance job's watched child: each way a system can end is named."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from enhancement.systems.supervise import SupervisedFailure, run_supervised


def test_work_that_finishes_returns_and_its_stages_are_not_errors():
    run_supervised(lambda report: report("working"), what="sys on target")


def test_an_exception_reaches_the_parent_as_itself():
    def work(report):
        raise KeyError("no such partner")

    with pytest.raises(KeyError, match="no such partner"):
        run_supervised(work, what="sys on target")


def test_a_hang_past_the_time_limit_is_stopped_naming_the_stage():
    def work(report):
        report("in sys.process_session for pid P2")
        time.sleep(60)

    started = time.monotonic()
    with pytest.raises(
        SupervisedFailure,
        match=r"sys on target: no result after 0\.0 minutes \(time_limit "
        r"0\.0333333 minutes\) while in sys.process_session for pid P2",
    ):
        run_supervised(work, what="sys on target", time_limit_s=2)
    assert time.monotonic() - started < 10


def test_os_exit_zero_is_named_as_an_exit_during_the_stage():
    def work(report):
        report("in sys.process_session for pid P3")
        os._exit(0)

    with pytest.raises(
        SupervisedFailure,
        match=r"sys on target: the process exited \(exit code 0\) while "
        r"in sys.process_session for pid P3, before the job's outputs",
    ):
        run_supervised(work, what="sys on target")


def test_sigkill_is_reported_as_probably_memory_with_the_peak():
    def work(report):
        hog = np.ones(40_000_000)  # 320 MB, so the peak is visible
        report("in sys.process_session for pid P1")
        time.sleep(1.5)  # the parent samples the peak
        del hog
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(SupervisedFailure) as err:
        run_supervised(work, what="sys on target", memory_hint="Raise mem_mb.")
    message = str(err.value)
    assert "killed by SIGKILL while in sys.process_session for pid P1, probably for lack of memory" in message
    peak = float(message.split("peak so far: ")[1].split(" MB")[0])
    assert peak > 300 and message.endswith("Raise mem_mb.")


HUNG_JOB = """
import os, sys, time
from enhancement.systems.supervise import run_supervised

def work(report):
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(600)

run_supervised(work, what="sys on target")
"""


def start_hung_job(tmp_path, **popen) -> tuple[subprocess.Popen, int]:
    """A job whose supervised child hangs: (the job, the child's pid)."""
    pid_file = tmp_path / "child.pid"
    job = subprocess.Popen([sys.executable, "-c", HUNG_JOB, str(pid_file)], **popen)
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and job.poll() is None
        time.sleep(0.1)
    return job, int(pid_file.read_text())


def test_sigterm_to_the_job_ends_the_child_too(tmp_path):
    """What Snakemake (or SLURM) does to stop a job: the parent stops the hung child."""
    job, child = start_hung_job(tmp_path, stderr=subprocess.PIPE, text=True)
    job.send_signal(signal.SIGTERM)
    _, stderr = job.communicate(timeout=30)
    assert (
        job.returncode != 0 and "sys on target: stopped by SIGTERM (Snakemake or the cluster ending the job)" in stderr
    )
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)


def test_kill_9_of_the_job_takes_the_child_with_it(tmp_path):
    job, child = start_hung_job(tmp_path)
    job.kill()
    job.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail("the child outlived a kill -9 of its job")
