"""The workflow on a real SLURM cluster, through `snakemake --profile slurm`.

The cluster is a single node on this machine (tests/slurm_cluster.py: slurmctld,
slurmd and munged from the Debian packages, one fake GPU, no accounting). The
tests skip, saying why, where it cannot be brought up (not root, no apt-get);
with ECHI_REQUIRE_SLURM=1 (set by .ci/run) they fail instead.

Every Snakemake here runs from the repository root, as the README says, with
the profile named as a user names it. The only flags added are the ones a
cluster without an accounting database needs (job states from `squeue`, no
account) and a short first status check so the tests do not idle.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import REPO
from enhancement.demo import demo_sessions
from enhancement.manifest import targets_of
from slurm_cluster import ClusterUnavailable, SlurmCluster

NAME = "gpu_passthrough"
# The validated submission, every file named (as `all` does, so a deleted one is
# re-made): resample, enhance and validate jobs.
SUBMISSION = [f"work/enhanced/{NAME}/dev/{t.session}.{t.device}.{t.pid}.wav"
              for t in targets_of(demo_sessions(), ["aria", "ha"], on_skip=lambda _: None)]
TARGETS = (*SUBMISSION, f"work/enhanced/{NAME}/dev/validation.csv")
CLUSTER_FLAGS = ("--slurm-status-command", "squeue", "--slurm-no-account",
                 "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1")
GPU_PLUGIN = """
import logging
import os

from enhancement.builtins import Passthrough
from enhancement.registry import register_enhancement

log = logging.getLogger(__name__)


@register_enhancement("gpu_passthrough")
class GpuPassthrough(Passthrough):
    \"\"\"passthrough, asking for a GPU (its yaml); fails where ECHI_TEST_FAIL names the job.\"\"\"

    def process_session(self, device_audio, device_fs, spkid_audio, spkid_fs, kwargs=None):
        log.info("CUDA_VISIBLE_DEVICES=%s", os.environ.get("CUDA_VISIBLE_DEVICES"))
        if os.environ.get("ECHI_TEST_FAIL") == f"{kwargs['session']}.{kwargs['device']}":
            raise RuntimeError("planned failure of this job")
        return super().process_session(device_audio, device_fs, spkid_audio, spkid_fs, kwargs)
"""


def snakemake(workdir: Path, *args: str, env: dict | None = None, check: bool = True,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """`snakemake --directory workdir ARGS` from the repository root."""
    command = [sys.executable, "-m", "snakemake", "--directory", str(workdir), *args]
    try:
        result = subprocess.run(command, capture_output=True, text=True, cwd=REPO, timeout=timeout,
                                env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"snakemake {' '.join(args)} still running after {timeout} s:\n"
                             f"{exc.stdout}\n{exc.stderr}") from None
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(workdir: Path, *args: str, env: dict | None = None) -> dict[str, int]:
    """Rule name -> job count of a dry run."""
    result = snakemake(workdir, *args, "--dry-run", env=env)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)\s*$", table, re.M)}


def dry_run_resources(workdir: Path, *args: str, env: dict | None = None) -> dict[str, set[str]]:
    """Rule name -> the 'resources:' lines its jobs have in a dry run."""
    result = snakemake(workdir, *args, "--dry-run", env=env)
    found = collections.defaultdict(set)
    for rule, resources in re.findall(r"^(?:local)?rule (\S+):\n(?:    .*\n)*?    resources: (.*)$",
                                      result.stdout + result.stderr, re.M):
        found[rule].add(resources)
    return found


def run_id(result: subprocess.CompletedProcess) -> str:
    return re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr)[1]


def rule_of(job: dict[str, str]) -> str:
    """The rule of a job the executor submitted (its comment: rule_<name>[_wildcards_...])."""
    return job["Comment"].removeprefix("rule_").split("_wildcards_")[0]


def jobs_of(cluster: SlurmCluster, result: subprocess.CompletedProcess) -> list[dict[str, str]]:
    """The SLURM jobs of one Snakemake run (named after its run ID)."""
    ident = run_id(result)
    return [j for j in cluster.jobs() if j["JobName"] == ident]


def submission_files(workdir: Path) -> dict[str, bytes]:
    folder = workdir / "work" / "enhanced" / NAME / "dev"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


# ---- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="module")
def plugins(tmp_path_factory) -> dict[str, str]:
    """ECHIPLUGINS with a system whose args yaml asks for one GPU."""
    folder = tmp_path_factory.mktemp("plugins")
    (folder / f"{NAME}.py").write_text(textwrap.dedent(GPU_PLUGIN))
    (folder / f"{NAME}.yaml").write_text(f"name: {NAME}\nargs: {{}}\nresources: {{gpu: 1}}\n")
    return {"ECHIPLUGINS": str(folder)}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    try:
        cluster = SlurmCluster(tmp_path_factory.mktemp("slurm")).start()
    except ClusterUnavailable as exc:
        if os.environ.get("ECHI_REQUIRE_SLURM"):
            pytest.fail(f"ECHI_REQUIRE_SLURM is set but no SLURM cluster could be started: {exc}")
        pytest.skip(f"no single-node SLURM cluster on this machine: {exc}")
    started = dict(cluster.processes)
    yield cluster
    cluster.stop()
    assert all(p.poll() is not None for p in started.values()), "a daemon outlived stop()"


def fresh_workdir(root: Path, demo_data: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(demo_data, root / "demo_data")
    return root


@pytest.fixture(scope="module")
def local_run(tmp_path_factory, demo_data, plugins) -> Path:
    """The submission made on this machine, through the local profile."""
    workdir = fresh_workdir(tmp_path_factory.mktemp("local") / "run", demo_data)
    snakemake(workdir, *TARGETS, "--profile", "profiles/local", "--config", f"enhancement_name={NAME}", env=plugins)
    return workdir


@pytest.fixture(scope="module")
def cluster_run(tmp_path_factory, demo_data, plugins, cluster):
    """The same submission made on the cluster: (workdir, planned jobs, snakemake's result)."""
    workdir = fresh_workdir(tmp_path_factory.mktemp("cluster") / "run", demo_data)
    env = {**plugins, **cluster.env}
    args = (*TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}", *CLUSTER_FLAGS)
    planned = planned_jobs(workdir, *args, env=env)
    return workdir, planned, snakemake(workdir, *args, env=env)


# ---- the profiles, without a cluster -------------------------------------------


def test_profile_slurm_is_found_by_name_from_the_repository_root(monkeypatch):
    from snakemake.cli import get_profile_dir

    monkeypatch.chdir(REPO)
    by_name, by_path = get_profile_dir("slurm"), get_profile_dir("profiles/slurm")
    assert by_name is not None and by_path is not None
    assert by_name[1].resolve() == by_path[1].resolve() == REPO / "profiles/slurm/config.yaml"
    assert "executor: slurm" in by_name[1].read_text()


def test_resources_come_from_the_args_yaml_not_the_rule_name(tmp_path, demo_data, plugins):
    """Under the slurm profile: a GPU system's enhance jobs ask for a GPU,
    passthrough's do not, resample jobs never do (and get one CPU, 1 GB)."""
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    gpu = dry_run_resources(workdir, *TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}",
                            env=plugins)
    plain = dry_run_resources(workdir, "work/enhanced/passthrough/dev/validation.csv", "--profile", "slurm")
    for found, wants_gpu in ((gpu, True), (plain, False)):
        enhance = [r for rule, rs in found.items() if rule.startswith("enhance_") for r in rs]
        assert len(enhance) == 3 and all(("gpu=1" in r) == wants_gpu for r in enhance), enhance
        for rule in ("resample_device", "resample_enrolment"):
            (resources,) = found[rule]
            assert "gpu" not in resources and "mem_mb=1000," in resources and "cpus_per_task=1" in resources
        (validate,) = found["validate_submission"]
        assert "gpu" not in validate and "mem_mb=2000," in validate


def test_gpu_model_in_the_args_yaml_implies_one_gpu(tmp_path, demo_data, plugins):
    folder = Path(plugins["ECHIPLUGINS"])
    yaml = tmp_path / "modelled.yaml"
    yaml.write_text(f"name: {NAME}\nargs: {{}}\nresources: {{gpu_model: a100}}\n")
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    found = dry_run_resources(workdir, *TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}",
                              f"enhance_args={yaml}", env={"ECHIPLUGINS": str(folder)})
    enhance = [r for rule, rs in found.items() if rule.startswith("enhance_") for r in rs]
    assert len(enhance) == 3 and all("gpu=1" in r and "gpu_model=a100" in r for r in enhance), enhance


def test_a_gpu_count_that_is_not_a_number_is_an_error_naming_the_yaml(tmp_path, demo_data, plugins):
    yaml = tmp_path / "wrong.yaml"
    yaml.write_text(f"name: {NAME}\nargs: {{}}\nresources: {{gpu: yes}}\n")
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    result = snakemake(workdir, "--profile", "slurm", "--dry-run", "--config", f"enhancement_name={NAME}",
                       f"enhance_args={yaml}", env=plugins, check=False)
    assert result.returncode != 0
    assert f"args yaml {yaml}: resources.gpu must be a whole number >= 0 (a count), got True" in result.stdout + result.stderr


# ---- on the cluster ----------------------------------------------------------------


def test_cluster_run_submits_every_job_enhance_with_a_gpu_resample_without(cluster, cluster_run):
    workdir, planned, result = cluster_run
    jobs = jobs_of(cluster, result)
    assert collections.Counter(rule_of(j) for j in jobs) == planned, planned
    assert {j["JobState"] for j in jobs} == {"COMPLETED"}
    enhance = [j for j in jobs if rule_of(j).startswith("enhance_")]
    assert len(enhance) == 3
    for job in jobs:
        # sbatch --gpus=1 shows as TresPerJob; no GPU request, no such field
        assert (job.get("TresPerJob") == "gres:gpu:1") == (job in enhance), job
        assert "gpu" not in job.get("TresPerNode", "")
    for job in jobs:
        if rule_of(job).startswith("resample_"):
            assert job["TRES"].startswith("cpu=1,mem=1000M,"), job["TRES"]
    # SLURM gave each enhance job the node's GPU: it set CUDA_VISIBLE_DEVICES in the job
    logs = sorted((workdir / "work/logs/enhance" / NAME / "dev").glob("*.log"))
    assert len(logs) == 3 and all("CUDA_VISIBLE_DEVICES=0" in log.read_text() for log in logs)


def test_cluster_submission_equals_the_local_one_byte_for_byte(cluster_run, local_run):
    workdir, _, _ = cluster_run
    ours, local = submission_files(workdir), submission_files(local_run)
    assert len(local) == 10 and ours == local


def test_failed_cluster_job_fails_the_run_and_a_rerun_submits_only_what_is_missing(
        cluster, cluster_run, local_run, plugins, tmp_path):
    done, _, _ = cluster_run
    workdir = tmp_path / "run"
    shutil.copytree(done, workdir, symlinks=True)
    for pid in ("dev_02.aria.P302", "dev_03.aria.P305"):
        (workdir / f"work/enhanced/{NAME}/dev/{pid}.wav").unlink()
    env = {**plugins, **cluster.env}
    args = (*TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}", *CLUSTER_FLAGS)

    failed = snakemake(workdir, *args, env={**env, "ECHI_TEST_FAIL": "dev_03.aria"}, check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    log = f"work/logs/enhance/{NAME}/dev/dev_03.aria.log"
    assert f"log: {log}" in text
    assert "planned failure of this job" in (workdir / log).read_text()
    states = {rule_of(j): j["JobState"] for j in jobs_of(cluster, failed)}
    # the profile keeps going: the other enhance job still ran
    assert states == {"enhance_dev_dev_02_aria": "COMPLETED", "enhance_dev_dev_03_aria": "FAILED"}
    slurm_log = re.search(r"(\S+/slurm_logs/rule_enhance_dev_dev_03_aria/\d+\.log)", text)
    assert slurm_log and Path(slurm_log[1]).is_file()

    missing = {"enhance_dev_dev_03_aria": 1, "validate_submission": 1}
    rerun = snakemake(workdir, *args, env=env)
    jobs = jobs_of(cluster, rerun)
    assert collections.Counter(rule_of(j) for j in jobs) == missing
    assert [j.get("TresPerJob") for j in jobs if rule_of(j).startswith("enhance_")] == ["gres:gpu:1"]
    assert submission_files(workdir) == submission_files(local_run)
