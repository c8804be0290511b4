"""Shared by the benchmarks: machine facts, synthetic long recordings, timing children."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
JOB_DONE = re.compile(r"job done in ([\d.]+) s, peak memory (\d+) MB")


def machine_info() -> str:
    import soxr

    versions = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "soundfile": sf.__version__,
        "soxr": soxr.__version__,
    }
    for name in ("torch", "snakemake"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            versions[name] = "absent"
    cpu = next((ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name")), "?")
    return f"machine: {os.cpu_count()} cores ({cpu}), " + ", ".join(f"{k} {v}" for k, v in versions.items())


def write_recording(path: Path, seconds: float, channels: int, rate: int = 48000, seed: int = 0) -> Path:
    """A long PCM_16 recording written block by block (speech-band noise + tones)."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    block = rate * 10
    total = int(seconds * rate)
    with sf.SoundFile(str(path), "w", rate, channels, subtype="PCM_16", format="WAV") as out:
        for start in range(0, total, block):
            n = min(block, total - start)
            t = (start + np.arange(n)) / rate
            tone = 0.2 * np.sin(2 * np.pi * 220 * t)[:, None]
            out.write((tone + 0.05 * rng.standard_normal((n, channels))).astype(np.float32))
    return path


def run_child(code: str) -> dict:
    """Run Python ``code`` in a fresh process; it must print one JSON line.
    Adds the child's own wall time and peak RSS (MB)."""
    wrapper = (
        "import json, time\nfrom enhancement.workflow.joblog import peak_rss_mb\n_t = time.perf_counter()\n"
        + code
        + "\n_r = dict(RESULT) if 'RESULT' in globals() else {}\n"
        "_r.update(wall_s=time.perf_counter() - _t, peak_mb=peak_rss_mb())\nprint(json.dumps(_r))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def snakemake(workdir: Path, *args: str) -> float:
    """Run the real workflow; returns its wall time."""
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"), "--directory", str(workdir), *args],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return time.perf_counter() - started


def job_figures(log: Path) -> tuple[float, float]:
    """(wall s, peak MB) a job reported at its end."""
    match = JOB_DONE.search(log.read_text())
    if not match:
        raise RuntimeError(f"no 'job done' line in {log}")
    return float(match[1]), float(match[2])


def one_session_dataset(root: Path, minutes: float, devices: tuple[str, ...] = ("aria",)) -> None:
    """An ECHI layout with one long session (and short enrolments)."""
    from enhancement.data.challenge import DEVICE_CHANNELS

    (root / "metadata").mkdir(parents=True, exist_ok=True)
    (root / "metadata" / "sessions.dev.csv").write_text(
        "session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\n"
        f"long,{'1' if 'aria' in devices else ''},{'2' if 'ha' in devices else ''},P1,P2,P3,P4\n"
    )
    for device in devices:
        write_recording(root / device / "dev" / f"long.{device}.wav", minutes * 60, DEVICE_CHANNELS[device])
    for pid in ("P1", "P2", "P3", "P4"):
        write_recording(root / "participant" / "dev" / f"{pid}.wav", 5, 1, seed=hash(pid) % 100)


def run_for_each_length(
    bench: Callable[..., None], doc: str, parser: argparse.ArgumentParser | None = None, default_minutes: float = 36.5
) -> None:
    """Command line of the per-recording benchmarks: ``--minutes M [M ...]``. Options a
    script adds to ``parser`` reach ``bench`` as keyword arguments."""
    parser = parser or argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[default_minutes])
    parser.add_argument("--scratch", type=Path, default=None, help="working folder (default: a temp dir)")
    options = vars(parser.parse_args())
    lengths, root = options.pop("minutes"), options.pop("scratch")
    print(machine_info())
    for minutes in lengths:
        with tempfile.TemporaryDirectory(dir=root) as scratch:
            bench(minutes, Path(scratch), **options)
