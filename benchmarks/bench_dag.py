"""Scale of the workflow itself: a no-op re-run with many sessions.

    .venv/bin/python benchmarks/bench_dag.py --sessions 10 200 [--seconds S | --minutes M] [--profile] [--keep DIR]

Writes a dev-sized (or larger) manifest of short synthetic sessions (aria and ha),
runs the whole workflow once for real, then times a no-op re-run (everything up to
date: 'Nothing to be done') and a dry run. --profile runs the no-op under cProfile and
prints where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, machine_info, snakemake, write_recording


def write_dataset(root: Path, sessions: int, seconds: float) -> int:
    (root / "metadata").mkdir(parents=True)
    rows = ["session,aria_pos,ha_pos,pos1,pos2,pos3,pos4"]
    template = root / "template"
    write_recording(template / "aria.wav", seconds, 7)
    write_recording(template / "ha.wav", seconds, 4)
    write_recording(template / "enrol.wav", 1, 1)
    for i in range(sessions):
        pids = [f"P{4 * i + k:04d}" for k in range(4)]
        rows.append(f"s{i:04d},1,3,{','.join(pids)}")
        for device in ("aria", "ha"):
            target = root / device / "dev" / f"s{i:04d}.{device}.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.hardlink_to(template / f"{device}.wav")
        for pid in pids:
            target = root / "participant" / "dev" / f"{pid}.wav"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.hardlink_to(template / "enrol.wav")
    (root / "metadata" / "sessions.dev.csv").write_text("\n".join(rows) + "\n")
    return sessions * 2 * 3


def workflow_shape(workdir: Path, *config: str) -> tuple[int, int]:
    """(rules Snakemake knows, jobs of a run from scratch): --list-rules and the
    job stats of a --forceall dry run."""
    base = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir)]
    rules = subprocess.run([*base, "--list-rules", *config], capture_output=True, text=True, check=True).stdout
    dry = subprocess.run(
        [*base, "--cores", "2", "--dry-run", "--forceall", *config], capture_output=True, text=True, check=True
    )
    total = re.search(r"^total\s+(\d+)\s*$", dry.stdout + dry.stderr, re.M)
    return len(rules.split()), int(total[1]) if total else -1


def timed(workdir: Path, *args: str, repeat: int = 3) -> float:
    return statistics.median(snakemake(workdir, *args) for _ in range(repeat))


def profile_noop(workdir: Path, data: Path) -> None:
    from snakemake.cli import main as snakemake_main

    argv = [
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        "--config",
        f"data_root={data}",
    ]
    profiler = cProfile.Profile()
    saved = sys.argv
    sys.argv = argv
    try:
        profiler.enable()
        try:
            snakemake_main(argv[1:])
        except SystemExit:
            pass
        profiler.disable()
    finally:
        sys.argv = saved
    stats = pstats.Stats(profiler).sort_stats("cumulative")
    stats.print_stats(25)
    # the parts benchmarks/README.md's table names, wherever they rank
    stats.print_stats(
        r"Snakefile:|\((file2jobs|expand_input|apply_input_function|update_needrun|has_metadata"
        r"|update_conda_envs|check_directory_outputs"
        r"|partners_of|partner_output_of|enrolment_inputs|raw_inputs_signature)\)"
    )


def bench(sessions: int, seconds: float, scratch: Path, profile: bool) -> None:
    data = scratch / "data"
    reused = data.is_dir()
    targets = sessions * 2 * 3 if reused else write_dataset(data, sessions, seconds)
    config = ("--config", f"data_root={data}")
    started = time.perf_counter()
    snakemake(scratch, "--cores", "2", *config)
    full = time.perf_counter() - started
    noop = timed(scratch, "--cores", "2", *config)
    dry = timed(scratch, "--cores", "2", "--dry-run", *config)
    bare = timed(scratch, "--version")
    rules, jobs = workflow_shape(scratch, *config)
    print(
        f"\n{sessions} sessions x 2 devices -> {targets} targets ({2 * sessions} enhance jobs); {seconds} s recordings"
    )
    print(f"  rules {rules}, jobs of a run from scratch {jobs}")
    print(f"  full run {'(what was missing)' if reused else '(every job)'} {full:8.1f} s")
    print(f"  no-op re-run         {noop:8.2f} s   (median of 3)")
    print(f"  no-op dry run        {dry:8.2f} s")
    print(f"  `snakemake --version`{bare:8.2f} s   (interpreter + snakemake import)")
    if profile:
        profile_noop(scratch, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 200])
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, default=1.0, help="length of each synthetic recording (default 1 s)")
    length.add_argument("--minutes", type=float, default=None, help="the same, in minutes")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--scratch", type=Path, default=None, help="folder for the temporary run folders")
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="run in KEEP/<sessions> and keep it; a second call re-uses its data and finished run",
    )
    args = parser.parse_args()
    if args.minutes is not None:
        args.seconds = args.minutes * 60
    print(machine_info())
    for sessions in args.sessions:
        if args.keep:
            (args.keep / str(sessions)).mkdir(parents=True, exist_ok=True)
            bench(sessions, args.seconds, args.keep / str(sessions), args.profile)
            continue
        with tempfile.TemporaryDirectory(dir=args.scratch) as scratch:
            bench(sessions, args.seconds, Path(scratch), args.profile)


if __name__ == "__main__":
    main()
