"""A real single-node SLURM cluster on this machine, for the cluster tests.

``SlurmCluster(folder).start()`` installs the Debian packages if they are
missing (``slurm-wlm``, ``munge``; root and apt-get needed), then starts
munged, slurmctld and slurmd in the foreground as child processes, with every
file they write (key, socket, config, state, spool, logs) under ``folder``:

- one node, this machine (``hostname -s``), with its CPUs (at most 2) and a bit
  less memory than it has, and one fake GPU: ``Gres=gpu:1`` backed by
  ``gres.conf`` ``Name=gpu File=/dev/null`` (SLURM allocates it and sets
  ``CUDA_VISIBLE_DEVICES`` in the job; nothing opens it);
- two partitions over that node, as on a cluster with CPU and GPU queues:
  ``cpu`` (the default) and ``gpu``, so tests can see where a job was placed;
- ``select/cons_tres`` (so ``--gpus`` works), ``proctrack/linuxproc`` and
  ``task/none`` (no cgroups), no accounting database: ``sacct`` does not work,
  so clients must ask ``squeue``, and ``MinJobAge`` keeps finished jobs
  visible to it (and to ``scontrol show job``) long enough.

Clients find the cluster through ``SLURM_CONF`` (``cluster.env``). One shim is
needed: snakemake-executor-plugin-slurm-jobstep removes every ``SLURM_*``
variable, ``SLURM_CONF`` included, before its ``srun`` inside the job, which is
harmless on a real cluster (config in /etc/slurm) but not on this one, so
``cluster.env`` puts first on PATH an ``srun`` that sets ``SLURM_CONF`` again
and execs the real one. Nothing is written outside ``folder`` but the packages.

``stop()`` cancels what is left of the jobs, then stops exactly the processes
``start()`` started, by pid. ``ClusterUnavailable`` says why a cluster cannot
be had here (not root, no apt-get, install failed, a daemon did not start).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from apt_packages import AptUnavailable, apt_install

PACKAGES = ("slurm-wlm", "munge")
NEEDED = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "sinfo", "srun")
MIN_JOB_AGE = 3600  # s a finished job stays visible: > the executor's status interval (<= 180 s)


class ClusterUnavailable(RuntimeError):
    """A SLURM cluster cannot be brought up on this machine."""


def sbin(name: str) -> str | None:
    return shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def missing_programs() -> list[str]:
    return [name for name in NEEDED if sbin(name) is None]


def install_packages(timeout: float = 600) -> None:
    """apt-get install the SLURM and munge packages when a program is missing."""
    missing = missing_programs()
    if not missing:
        return
    try:
        apt_install(PACKAGES, f"SLURM programs missing ({', '.join(missing)})", timeout)
    except AptUnavailable as exc:
        raise ClusterUnavailable(str(exc)) from None
    still = missing_programs()
    if still:
        raise ClusterUnavailable(f"installed {' '.join(PACKAGES)} but {', '.join(still)} still missing")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def physical_memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ClusterUnavailable("no MemTotal in /proc/meminfo")


class SlurmCluster:
    def __init__(self, folder: Path, cpus: int = 2) -> None:
        self.folder = Path(folder).resolve()
        self.node = socket.gethostname().split(".")[0]
        self.cpus = max(1, min(cpus, os.cpu_count() or 1))
        self.real_memory_mb = int(physical_memory_mb() * 0.9)
        self.conf = self.folder / "slurm.conf"
        self.munge_socket = self.folder / "munge" / "munge.socket"
        self.processes: dict[str, subprocess.Popen] = {}

    # ---- for tests ---------------------------------------------------------

    @property
    def env(self) -> dict[str, str]:
        """Environment for clients (sbatch, squeue, snakemake) of this cluster."""
        return {"SLURM_CONF": str(self.conf), "PATH": f"{self.folder / 'bin'}:{os.environ.get('PATH', '')}"}

    def command(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(list(args), capture_output=True, text=True, timeout=60, env={**os.environ, **self.env})
        if check and result.returncode != 0:
            raise RuntimeError(f"{shlex.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def jobs(self) -> list[dict[str, str]]:
        """Every job slurmctld still knows (``MinJobAge``), as ``scontrol show job`` fields."""
        out = self.command("scontrol", "show", "job", "--oneliner").stdout
        jobs = []
        for line in out.splitlines():
            if line.startswith("JobId="):
                fields = dict(token.partition("=")[::2] for token in line.split(" ") if "=" in token)
                jobs.append(fields)
        return jobs

    def logs(self) -> str:
        parts = []
        for log in sorted(self.folder.glob("log/*.log")):
            parts.append(f"--- {log.name} (last lines)\n" + "\n".join(log.read_text().splitlines()[-15:]))
        return "\n".join(parts)

    # ---- up and down -------------------------------------------------------

    def start(self, timeout: float = 60) -> SlurmCluster:
        if os.geteuid() != 0:
            raise ClusterUnavailable("not root: slurmctld, slurmd and munged need root here")
        install_packages()
        try:
            self._write_files()
            self._start(
                "munged",
                [
                    sbin("munged"),
                    "--foreground",
                    "--force",
                    f"--socket={self.munge_socket}",
                    f"--key-file={self.folder / 'munge-key' / 'munge.key'}",
                    f"--pid-file={self.folder / 'munge' / 'munged.pid'}",
                    f"--seed-file={self.folder / 'munge' / 'munged.seed'}",
                    f"--log-file={self.folder / 'log' / 'munged.log'}",
                ],
            )
            self._wait("munged", lambda: self._ok("munge", "-n", "-S", str(self.munge_socket)), timeout)
            self._start("slurmctld", [sbin("slurmctld"), "-D", "-i", "-f", str(self.conf)])
            self._wait("slurmctld", lambda: "UP" in self.command("scontrol", "ping", check=False).stdout, timeout)
            self._start("slurmd", [sbin("slurmd"), "-D", "-f", str(self.conf)])
            self._wait("slurmd", self._node_idle, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Cancel this cluster's jobs, then stop the daemons started here (by pid)."""
        if "slurmctld" in self.processes and self.processes["slurmctld"].poll() is None:
            self.command("scancel", "--user", str(os.geteuid()), check=False)
            time.sleep(1)
        for name in ("slurmd", "slurmctld", "munged"):
            process = self.processes.pop(name, None)
            if process is None or process.poll() is not None:
                continue
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def __enter__(self) -> SlurmCluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- details -----------------------------------------------------------

    def _write_files(self) -> None:
        for sub, mode in (
            ("munge-key", 0o700),
            ("munge", 0o755),
            ("state", 0o755),
            ("spool", 0o755),
            ("log", 0o755),
            ("bin", 0o755),
        ):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
            (self.folder / sub).chmod(mode)
        self.folder.chmod(0o755)  # munged wants the socket's path searchable by all
        key = self.folder / "munge-key" / "munge.key"
        if not key.exists():
            subprocess.run(
                [sbin("mungekey"), "--create", f"--keyfile={key}"], check=True, capture_output=True, text=True
            )
        ctld_port, slurmd_port = free_port(), free_port()
        self.conf.write_text(f"""\
# A single-node test cluster (tests/slurm_cluster.py).
ClusterName=echitest
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={self.munge_socket}
StateSaveLocation={self.folder / "state"}
SlurmdSpoolDir={self.folder / "spool"}
SlurmctldPidFile={self.folder / "slurmctld.pid"}
SlurmdPidFile={self.folder / "slurmd.pid"}
SlurmctldLogFile={self.folder / "log" / "slurmctld.log"}
SlurmdLogFile={self.folder / "log" / "slurmd.log"}
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/builtin
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MinJobAge={MIN_JOB_AGE}
ReturnToService=2
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.real_memory_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes={self.node} MaxTime=INFINITE State=UP
""")
        (self.folder / "gres.conf").write_text("Name=gpu File=/dev/null\n")
        srun = self.folder / "bin" / "srun"
        srun.write_text(
            "#!/bin/sh\n"
            "# The slurm-jobstep executor drops SLURM_CONF before its srun; this cluster needs it.\n"
            f'SLURM_CONF={shlex.quote(str(self.conf))} exec {shlex.quote(sbin("srun"))} "$@"\n'
        )
        srun.chmod(0o755)

    def _start(self, name: str, command: list[str]) -> None:
        out = open(self.folder / "log" / f"{name}.out", "w")
        self.processes[name] = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            cwd=self.folder,
        )
        out.close()

    def _ok(self, *args: str) -> bool:
        return self.command(*args, check=False).returncode == 0

    def _node_idle(self) -> bool:
        state = self.command("sinfo", "--noheader", "--nodes", self.node, "--format=%T", check=False).stdout.strip()
        if state.rstrip("*") in {"down", "drained", "draining"}:
            self.command("scontrol", "update", f"nodename={self.node}", "state=resume", check=False)
        return state == "idle"

    def _wait(self, name: str, ready, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.processes[name].poll() is not None:
                raise ClusterUnavailable(
                    f"{name} exited ({self.processes[name].returncode}) on start:\n"
                    + (self.folder / "log" / f"{name}.out").read_text()[-3000:]
                    + "\n"
                    + self.logs()
                )
            if ready():
                return
            time.sleep(0.2)
        raise ClusterUnavailable(f"{name} not ready after {timeout:.0f} s:\n{self.logs()}")
