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
import subprocess
import textwrap
from pathlib import Path

import pytest
import yaml
from conftest import REPO, linked_copy
from slurm_cluster import ClusterUnavailable, SlurmCluster
from snakemake_server import snakemake_command

from enhancement.data.demo import demo_sessions
from enhancement.data.manifest import targets_of

# one cluster on this machine: one xdist worker runs the module
pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.xdist_group("slurm")]

NAME = "gpu_passthrough"
# The validated submission, every file named (as `all` does, so a deleted one is
# re-made): resample, enhance and validate jobs.
SUBMISSION = [
    f"work/enhanced/{NAME}/dev/{t.session}.{t.device}.{t.pid}.wav"
    for t in targets_of(demo_sessions(), ["aria", "ha"], on_skip=lambda _: None)
]
TARGETS = (*SUBMISSION, f"work/enhanced/{NAME}/dev/validation.csv")
# The Snakefile's `localrules`: small jobs that run where Snakemake runs.
LOCAL_RULES = {
    "all",
    "resample",
    "submission_file",
    "validate_submission",
    "compare",
    "evaluation_reports",
    "compare_systems",
    "validation_table",
}
CLUSTER_FLAGS = (
    "--slurm-status-command",
    "squeue",
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks",
    "1",
    "--seconds-between-status-checks",
    "1",
)
GPU_PLUGIN = """
import logging
import os

from enhancement.systems.builtins import Passthrough
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


def snakemake(
    workdir: Path, *args: str, env: dict | None = None, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess:
    """`snakemake --directory workdir ARGS` from the repository root."""
    try:
        result = snakemake_command(
            ["--directory", str(workdir), *args], REPO, {**os.environ, **(env or {})}, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(
            f"snakemake {' '.join(args)} still running after {timeout} s:\n{exc.stdout}\n{exc.stderr}"
        ) from None
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def planned_jobs(workdir: Path, *args: str, env: dict | None = None) -> dict[str, int]:
    """Rule name -> job count of a dry run."""
    result = snakemake(workdir, *args, "--dry-run", env=env)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text.split("Job stats:", 1)[1].split("total", 1)[0]
    return {m[1]: int(m[2]) for m in re.finditer(r"^(\S+)\s+(\d+)\s*$", table, re.M)}


def dry_run_resources(workdir: Path, *args: str, env: dict | None = None) -> dict[str, list[str]]:
    """Rule name -> the 'resources:' line of each of its jobs in a dry run."""
    result = snakemake(workdir, *args, "--dry-run", env=env)
    found = collections.defaultdict(list)
    for rule, resources in re.findall(
        r"^(?:local)?rule (\S+):\n(?:    .*\n)*?    resources: (.*)$", result.stdout + result.stderr, re.M
    ):
        found[rule].append(resources)
    return found


def run_id(result: subprocess.CompletedProcess) -> str:
    return re.search(r"SLURM run ID: (\S+)", result.stdout + result.stderr)[1]


def rule_of(job: dict[str, str]) -> str:
    """The rule of a job the executor submitted (its comment: rule_<name>[_wildcards_...])."""
    return job["Comment"].removeprefix("rule_").split("_wildcards_")[0]


def wildcards_of(job: dict[str, str]) -> str:
    """The wildcard values of a submitted job, joined by '_' (e.g. dev_dev_03_aria)."""
    return job["Comment"].partition("_wildcards_")[2]


def cluster_jobs(planned: dict[str, int]) -> dict[str, int]:
    """The planned jobs that go to the cluster: all but the `localrules`."""
    return {rule: n for rule, n in planned.items() if rule not in LOCAL_RULES}


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
    """ECHIPLUGINS with a system whose args yaml asks for one GPU on the `gpu` partition."""
    folder = tmp_path_factory.mktemp("plugins")
    (folder / f"{NAME}.py").write_text(textwrap.dedent(GPU_PLUGIN))
    (folder / f"{NAME}.yaml").write_text(f"name: {NAME}\nargs: {{}}\nresources: {{gpu: 1, slurm_partition: gpu}}\n")
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
    linked_copy(demo_data, root / "demo_data")
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
    gpu = dry_run_resources(
        workdir, *TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}", env=plugins
    )
    plain = dry_run_resources(workdir, "work/enhanced/passthrough/dev/validation.csv", "--profile", "slurm")
    for found, wants_gpu in ((gpu, True), (plain, False)):
        enhance = found["enhance"]
        assert len(enhance) == 3 and all(("gpu=1" in r) == wants_gpu for r in enhance), enhance
        assert all(("slurm_partition=gpu" in r) == wants_gpu for r in enhance), enhance
        for rule in ("resample_device", "resample_enrolment"):
            for resources in found[rule]:
                assert "gpu" not in resources and "mem_mb=1000," in resources and "cpus_per_task=1" in resources


def test_gpu_model_in_the_args_yaml_implies_one_gpu(tmp_path, demo_data, plugins):
    folder = Path(plugins["ECHIPLUGINS"])
    args_yaml = tmp_path / "modelled.yaml"
    args_yaml.write_text(f"name: {NAME}\nargs: {{}}\nresources: {{gpu_model: a100}}\n")
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    found = dry_run_resources(
        workdir,
        *TARGETS,
        "--profile",
        "slurm",
        "--config",
        f"enhancement_name={NAME}",
        f"enhance_args={args_yaml}",
        env={"ECHIPLUGINS": str(folder)},
    )
    enhance = found["enhance"]
    assert len(enhance) == 3 and all("gpu=1" in r and "gpu_model=a100" in r for r in enhance), enhance


@pytest.mark.parametrize(
    "resources, message",
    [
        ("{gpu: yes}", "resources.gpu must be a whole number >= 0 (a count), got True"),
        ("{mem_mb: lots}", "resources.mem_mb must be a whole number >= 1 (MB), got 'lots'"),
        (
            "{slurm_partition: [gpu, a100]}",
            "resources.slurm_partition must be a plain string or number, got ['gpu', 'a100']",
        ),
    ],
)
def test_a_resource_of_the_wrong_type_is_an_error_naming_the_yaml(resources, message, tmp_path, demo_data, plugins):
    args_yaml = tmp_path / "wrong.yaml"
    args_yaml.write_text(f"name: {NAME}\nargs: {{}}\nresources: {resources}\n")
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    result = snakemake(
        workdir,
        "--profile",
        "slurm",
        "--dry-run",
        "--config",
        f"enhancement_name={NAME}",
        f"enhance_args={args_yaml}",
        env=plugins,
        check=False,
    )
    assert result.returncode != 0
    assert f"args yaml {args_yaml}: {message}" in result.stdout + result.stderr


def test_placement_keys_of_the_args_yaml_reach_the_enhance_jobs_only(tmp_path, demo_data, plugins):
    args_yaml = tmp_path / "placed.yaml"
    args_yaml.write_text(
        f"name: {NAME}\nargs: {{}}\nresources:\n  gpu: 1\n  slurm_partition: gpu\n"
        '  slurm_account: lab42\n  slurm_extra: "--qos=high --constraint=h100"\n'
        "  constraint: h100\n  qos: high\n"
    )
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    found = dry_run_resources(
        workdir,
        *TARGETS,
        "--profile",
        "slurm",
        "--config",
        f"enhancement_name={NAME}",
        f"enhance_args={args_yaml}",
        env=plugins,
    )
    for resources in found["enhance"]:
        for wanted in (
            "slurm_partition=gpu",
            "slurm_account=lab42",
            "slurm_extra=--qos=high --constraint=h100",
            "constraint=h100",
            "qos=high",
        ):
            assert wanted in resources, resources
    others = [r for rule, rs in found.items() if rule != "enhance" for r in rs]
    assert others and not any("lab42" in r or "slurm_partition" in r for r in others)


def test_set_resources_on_the_command_line_and_in_a_profile_reach_the_enhance_rule(tmp_path, demo_data):
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    by_flag = dry_run_resources(
        workdir,
        "work/enhanced/passthrough/dev/validation.csv",
        "--profile",
        "slurm",
        "--set-resources",
        "enhance:slurm_partition=gpu",
    )
    assert len(by_flag["enhance"]) == 3 and all("slurm_partition=gpu" in r for r in by_flag["enhance"])
    assert not any("slurm_partition" in r for r in by_flag["resample_device"])
    profile = tmp_path / "myprofile"
    profile.mkdir()
    settings = yaml.safe_load((REPO / "profiles/slurm/config.yaml").read_text())
    settings["set-resources"]["enhance"] = {"slurm_account": "lab42", "slurm_partition": "gpu"}
    (profile / "config.yaml").write_text(yaml.safe_dump(settings))
    by_profile = dry_run_resources(workdir, "work/enhanced/passthrough/dev/validation.csv", "--profile", str(profile))
    assert all("slurm_account=lab42" in r and "slurm_partition=gpu" in r for r in by_profile["enhance"])
    assert not any("lab42" in r for r in by_profile["resample_device"])


def test_a_cluster_jobs_own_snakemake_repeats_no_plan_time_work(tmp_path, demo_data):
    """A cluster job re-reads the workflow to run the one job it is given: the
    checks of every raw input and the code fingerprints are the planner's, not
    repeated there (on a shared file system, per job). The planner refuses a data
    root with a recording missing; the job's Snakemake, as the executor starts it
    (--mode remote --target-jobs ... --force), runs its job there all the same."""
    root = tmp_path / "run"
    linked_copy(demo_data, root / "data")
    (root / "data/aria/dev/dev_03.aria.wav").unlink()
    planner = snakemake(root, "--dry-run", "--config", "data_root=data", check=False)
    assert planner.returncode != 0
    assert "1 input file(s) named by the manifest are missing" in planner.stdout + planner.stderr
    snakemake(
        root,
        "--cores",
        "1",
        "--mode",
        "remote",
        "--force",
        "--nolock",
        "--target-jobs",
        "resample_enrolment:rate=16000,dataset=dev,pid=P301",
        "--config",
        "data_root=data",
    )
    assert (root / "work/resampled/16000/participant/dev/P301.wav").is_file()
    assert not (root / "work/.snakemake/echi-code-cache.json").exists()  # no fingerprint worked out


# ---- on the cluster ----------------------------------------------------------------


def test_cluster_run_submits_every_job_enhance_with_a_gpu_resample_without(cluster, cluster_run):
    workdir, planned, result = cluster_run
    jobs = jobs_of(cluster, result)
    assert collections.Counter(rule_of(j) for j in jobs) == cluster_jobs(planned), planned
    assert {j["JobState"] for j in jobs} == {"COMPLETED"}
    enhance = [j for j in jobs if rule_of(j) == "enhance"]
    assert len(enhance) == 3
    for job in jobs:
        # sbatch --gpus=1 shows as TresPerJob; no GPU request, no such field
        assert (job.get("TresPerJob") == "gres:gpu:1") == (job in enhance), job
        assert "gpu" not in job.get("TresPerNode", "")
        # the args yaml's slurm_partition places the enhance jobs; the rest go to the default
        assert job["Partition"] == ("gpu" if job in enhance else "cpu"), job
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
    cluster, cluster_run, local_run, plugins, tmp_path
):
    done, _, _ = cluster_run
    workdir = tmp_path / "run"
    linked_copy(done, workdir, under=("demo_data", "work/resampled"))
    for pid, partner in (("dev_02.aria.P302", "dev_02.aria.partner1"), ("dev_03.aria.P305", "dev_03.aria.partner1")):
        (workdir / f"work/enhanced/{NAME}/dev/{pid}.wav").unlink()
        (workdir / f"work/partners/{NAME}/dev/{partner}.wav").unlink()
    env = {**plugins, **cluster.env}
    args = (*TARGETS, "--profile", "slurm", "--config", f"enhancement_name={NAME}", *CLUSTER_FLAGS)

    failed = snakemake(workdir, *args, env={**env, "ECHI_TEST_FAIL": "dev_03.aria"}, check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0
    log = f"logs/enhance/{NAME}/dev/dev_03.aria.log"  # named from work_dir, where Snakemake runs
    assert f"log: {log}" in text
    assert "planned failure of this job" in (workdir / "work" / log).read_text()
    states = {(rule_of(j), wildcards_of(j)): j["JobState"] for j in jobs_of(cluster, failed)}
    # the profile keeps going: the other enhance job still ran
    assert states == {("enhance", "dev_dev_02_aria"): "COMPLETED", ("enhance", "dev_dev_03_aria"): "FAILED"}
    slurm_log = re.search(r"(\S+/slurm_logs/rule_enhance/dev_dev_03_aria/\d+\.log)", text)
    assert slurm_log and Path(slurm_log[1]).is_file()

    rerun = snakemake(workdir, *args, env=env)
    jobs = jobs_of(cluster, rerun)
    assert [(rule_of(j), wildcards_of(j)) for j in jobs] == [("enhance", "dev_dev_03_aria")]
    assert [j.get("TresPerJob") for j in jobs] == ["gres:gpu:1"]
    assert submission_files(workdir) == submission_files(local_run)


def test_array_jobs_pack_the_enhance_jobs_and_set_resources_place_them(cluster, tmp_path, demo_data):
    """passthrough (no GPU, no partition in its yaml) placed on `gpu` for this run
    only, its three enhance jobs submitted as one SLURM job array. The executor
    packs the jobs of a rule that are ready together: with the audio resampled
    first (here on this machine), all three are."""
    workdir = fresh_workdir(tmp_path / "run", demo_data)
    snakemake(workdir, "resample", "--cores", "2")
    result = snakemake(
        workdir,
        "work/enhanced/passthrough/dev/validation.csv",
        "--profile",
        "slurm",
        "--set-resources",
        "enhance:slurm_partition=gpu",
        "--slurm-array-jobs",
        "enhance",
        *CLUSTER_FLAGS,
        env=cluster.env,
    )
    jobs = jobs_of(cluster, result)
    enhance = [j for j in jobs if rule_of(j) == "enhance"]
    assert len(enhance) == len(jobs) == 3 and {j["JobState"] for j in jobs} == {"COMPLETED"}
    assert {j["Partition"] for j in enhance} == {"gpu"}
    # one array: a shared ArrayJobId, three tasks
    assert len({j.get("ArrayJobId") for j in enhance}) == 1 and None not in {j.get("ArrayJobId") for j in enhance}
    assert len({j["ArrayTaskId"] for j in enhance}) == 3
    assert len(list((workdir / "work/enhanced/passthrough/dev").glob("*.wav"))) == 9
