"""Parallel resample jobs: the same files resampled with --cores 1 and --cores 2.

    .venv/bin/python benchmarks/bench_parallel.py --minutes 5 --sessions 2

Writes `--sessions` synthetic sessions (an aria and an ha recording each, of
`--minutes`), then runs the workflow's resample jobs for their device files twice
in fresh folders, with --cores 1 and with --cores 2. Prints each run's wall time
and, from the job logs, when each job ran and how many ran at once.
"""

from __future__ import annotations

import argparse
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

from _common import machine_info, snakemake
from bench_dag import write_dataset

LAST_LINE = re.compile(r"^(\S+ \S+) INFO root: job done in ([\d.]+) s", re.M)


def job_intervals(logs: Path) -> list[tuple[str, float, float]]:
    """(file, start, end) of every resample job, in seconds since the epoch;
    the start is the end the log states minus the duration it states."""
    intervals = []
    for log in sorted(logs.rglob("*.log")):
        match = LAST_LINE.search(log.read_text())
        if not match:
            raise RuntimeError(f"no 'job done' line in {log}")
        end = datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
        intervals.append((log.stem, end - float(match[2]), end))
    return intervals


def most_at_once(intervals: list[tuple[str, float, float]]) -> int:
    events = sorted([(start, 1) for _, start, _ in intervals] + [(end, -1) for _, _, end in intervals])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    return peak


def run(data: Path, sessions: int, cores: int, scratch: Path) -> tuple[float, list[tuple[str, float, float]]]:
    workdir = scratch / f"cores{cores}"
    workdir.mkdir()
    targets = [
        f"work/resampled/16000/{device}/dev/s{i:04d}.{device}.wav" for i in range(sessions) for device in ("aria", "ha")
    ]
    started = time.perf_counter()
    snakemake(workdir, "--cores", str(cores), "--config", f"data_root={data}", "--", *targets)
    wall = time.perf_counter() - started
    return wall, job_intervals(workdir / "work" / "logs" / "resample")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--sessions", type=int, default=2, help="each gives an aria (7 ch) and an ha (4 ch) file")
    parser.add_argument("--scratch", type=Path, default=None)
    args = parser.parse_args()
    print(machine_info())
    scratch = Path(tempfile.mkdtemp(dir=args.scratch))
    try:
        data = scratch / "data"
        write_dataset(data, args.sessions, args.minutes * 60)
        print(f"{2 * args.sessions} device files of {args.minutes} min (aria 7 ch, ha 4 ch, 48 kHz PCM_16)")
        walls = {}
        for cores in (1, 2):
            wall, intervals = run(data, args.sessions, cores, scratch)
            walls[cores] = wall
            origin = min(start for _, start, _ in intervals)
            busy = sum(end - start for _, start, end in intervals)
            print(
                f"\n--cores {cores}: snakemake wall {wall:.1f} s; jobs' own time {busy:.1f} s; "
                f"at most {most_at_once(intervals)} job(s) running at once"
            )
            for name, start, end in sorted(intervals, key=lambda x: x[1]):
                print(f"  {name:<20} {start - origin:6.1f} s -> {end - origin:6.1f} s")
        print(f"\nwall --cores 2 / --cores 1: {walls[2] / walls[1]:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
