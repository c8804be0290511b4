"""CPU seconds per 2-s segment of the official ECHI metrics, per metric, and a dev-set estimate.

Generated speech-like audio (no downloads): voiced harmonic bursts with moving
pitch and formant-like filtering, syllable envelopes and pauses; the "output" is
the reference plus noise, a leak of another talker and a gain. Every metric is
timed alone on the same segments (CPU time of this process, one thread, as a
scoring job runs), then the whole ``full`` and ``quick`` sets through
``SegmentScorer.score``; the totals are extrapolated to a dev set of
``--dev-segments`` segment scorings.

Two more modes run the whole evaluation, ``run_evaluation.py`` as a user runs it,
in a temporary folder, and report what every process it started cost together
(``getrusage(RUSAGE_CHILDREN)`` around it: CPU time, and the peak RSS of the
largest process):

- ``--end-to-end [FIXTURE]``: the evaluation fixture (default
  ``tests/data/eval_fixture``, else ``$ECHI_SHARED/eval_fixture``, ``../shared``
  by default), full metrics; CPU s per kept segment (the rows of the device-level
  report tables);
- ``--long-session``: a generated dataset of one 36-min session, one device,
  three partners with 100 segments each, quick metrics.

    .venv/bin/python benchmarks/bench_evaluate.py --segments 8
    .venv/bin/python benchmarks/bench_evaluate.py --end-to-end
    .venv/bin/python benchmarks/bench_evaluate.py --long-session
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, machine_info

from enhancement.evaluation.metrics import (
    SegmentScorer,
    perceptual,
    sepm,
    signal,
    single_thread,
)
from enhancement.evaluation.metrics.dnsmos import Dnsmos
from enhancement.evaluation.segments import pcm16_round_trip

FS = 16000


def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """Syllable-rate bursts of a harmonic source through two moving resonances."""
    from scipy.signal import lfilter

    n = int(seconds * FS)
    t = np.arange(n) / FS
    f0 = 110 + 40 * rng.random() + 25 * np.sin(2 * np.pi * 0.7 * t + rng.random() * 6)
    phase = 2 * np.pi * np.cumsum(f0) / FS
    src = sum(np.sin(k * phase) / k for k in range(1, 30))
    out = np.zeros(n)
    for centre in (500 + 300 * rng.random(), 1500 + 700 * rng.random()):
        r = 0.97
        a = [1, -2 * r * np.cos(2 * np.pi * centre / FS), r * r]
        out += lfilter([1 - r], a, src + 0.3 * rng.standard_normal(n))
    syll = np.clip(np.sin(2 * np.pi * (3.5 + rng.random()) * t + rng.random() * 6), 0, None) ** 2
    pause = (np.sin(2 * np.pi * 0.4 * t + rng.random() * 6) > -0.6).astype(float)
    x = out * syll * pause
    return 0.1 * x / np.max(np.abs(x))


def segment_pairs(
    count: int, seconds: float, seed: int = 0, jitter: float = 0.0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` pairs of ``seconds`` +- uniform ``jitter`` seconds each."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(count):
        length = seconds + jitter * rng.uniform(-1, 1) if jitter else seconds
        ref = speech_like(length, rng)
        leak = speech_like(length + 1 / FS, rng)[: len(ref)]
        est = 0.8 * ref + 0.3 * leak + 0.01 * rng.standard_normal(len(ref))
        pairs.append((pcm16_round_trip(est), pcm16_round_trip(ref)))
    return pairs


def cpu_per_call(fn, pairs) -> float:
    fn(*pairs[0])  # warm-up (imports, caches, JIT)
    start = time.process_time()
    for est, ref in pairs:
        fn(est, ref)
    return (time.process_time() - start) / len(pairs)


def default_fixture() -> Path:
    local = REPO / "tests" / "data" / "eval_fixture"
    shared = Path(os.environ.get("ECHI_SHARED", REPO.parent / "shared"))
    return local if local.is_dir() else shared / "eval_fixture"


def kept_segments(workdir: Path, name: str) -> int:
    """Rows of the device-level report tables (``report.{dataset}.{device}.{type}._._.csv``):
    the segments that reached the statistics, over devices and both segment types."""
    count = 0
    for table in workdir.rglob(f"evaluation/{name}/*/report.*._._.csv"):
        with open(table, newline="") as f:
            count += sum(1 for _ in csv.DictReader(f))
    return count


def run_evaluation(
    data_root: Path, submission: Path, workdir: Path, cores: int, *overrides: str, name: str = "bench"
) -> dict:
    """``run_evaluation.py`` in ``workdir``: wall s, CPU s of every process it
    started (user + sys), the largest one's peak RSS (MB) and the kept segments."""
    command = [
        sys.executable,
        str(REPO / "run_evaluation.py"),
        f"data_root={data_root}",
        f"paths.enhancement_output_dir={submission}",
        f"shared.exp_name={name}",
        *overrides,
        "--",
        "--directory",
        str(workdir),
        "--cores",
        str(cores),
    ]
    # this checkout's package, also where the environment has another one installed (editable)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p))
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": after.ru_maxrss / 1024,
        "kept": kept_segments(workdir, name),
        "command": " ".join(command),
        "load": (load_before, os.getloadavg()[0]),
    }


def print_run(figures: dict) -> None:
    print(f"  {figures['command']}")
    per = figures["cpu_s"] / figures["kept"] if figures["kept"] else float("nan")
    print(
        f"  wall {figures['wall_s']:.1f} s, CPU {figures['cpu_s']:.1f} s (all processes), "
        f"{figures['kept']} kept segments -> {per:.3f} CPU s per kept segment; "
        f"largest process's peak RSS {figures['peak_rss_mb']:.0f} MB; "
        "load average %.2f before, %.2f after" % figures["load"]
    )


def end_to_end(fixture: Path, cores: int) -> None:
    """The fixture scored as a user scores a folder, full metrics."""
    print(f"end to end: {fixture}, --cores {cores}, full metrics")
    with tempfile.TemporaryDirectory(prefix="bench_eval_") as tmp:
        print_run(run_evaluation(fixture, fixture / "submission", Path(tmp), cores))


def write_long_session(
    root: Path, minutes: float = 36.0, partners: int = 3, segments: int = 100, seed: int = 0
) -> None:
    """One session, one device (aria, wearer at seat 1), ``partners`` partners with
    ``segments`` segments each (0.5-4 s, from 30 s on), in the layout the workflow
    reads. A partner's reference is speech-like audio over its segments on a
    -72 dBFS noise floor; its submission file is that reference plus a leak of the
    next partner and noise, as the per-metric mode's outputs. Written block by block."""
    import soundfile as sf

    rng = np.random.default_rng(seed)
    session, device, dataset = "long_01", "aria", "dev"
    pids = [f"P9{i:02d}" for i in range(1, 5)]
    (root / "metadata" / "ref" / dataset).mkdir(parents=True)
    (root / "ref" / dataset).mkdir(parents=True)
    (root / "submission").mkdir()
    (root / "metadata" / f"sessions.{dataset}.csv").write_text(
        f"session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\n{session},1,,{','.join(pids)}\n"
    )
    total = int(minutes * 60 * FS)
    spacing = (total - 30 * FS) // segments
    speech: list[dict[int, np.ndarray]] = []  # per partner: start -> speech
    for pid in pids[1 : partners + 1]:
        rows, own = [], {}
        for i in range(segments):
            length = int(rng.uniform(0.5, 4.0) * FS)
            start = 30 * FS + i * spacing + int(rng.uniform(0, spacing - length))
            with np.errstate(invalid="ignore"):
                x = speech_like((length + 1) / FS, rng)[:length]
            while not np.isfinite(x).all():  # all pause: speech_like's peak normalisation divides by 0
                with np.errstate(invalid="ignore"):
                    x = speech_like((length + 1) / FS, rng)[:length]
            own[start] = pcm16_round_trip(x)
            rows.append(f"{i},{start},{start + length}")
        (root / "metadata" / "ref" / dataset / f"{session}.{device}.{pid}.csv").write_text("\n".join(rows) + "\n")
        speech.append(own)
    block = 60 * FS
    outs = []
    for pid in pids[1 : partners + 1]:
        stem = f"{session}.{device}.{pid}.wav"
        outs.append(
            (
                sf.SoundFile(root / "ref" / dataset / stem, "w", FS, 1, "PCM_16"),
                sf.SoundFile(root / "submission" / stem, "w", FS, 1, "PCM_16"),
            )
        )
    for lo in range(0, total, block):
        n = min(block, total - lo)
        refs = []
        for own in speech:
            x = 10 ** (-72 / 20) * rng.standard_normal(n)
            for start, s in own.items():
                a, b = max(start, lo), min(start + len(s), lo + n)
                if a < b:
                    x[a - lo : b - lo] += s[a - start : b - start]
            refs.append(x)
        for k, (ref_file, sub_file) in enumerate(outs):
            ref_file.write(refs[k])
            sub_file.write(
                np.clip(0.8 * refs[k] + 0.3 * refs[(k + 1) % len(refs)] + 0.01 * rng.standard_normal(n), -1, 1)
            )
    for files in outs:
        for f in files:
            f.close()


def long_session(cores: int, metrics: str) -> None:
    """A 36-min session's evaluation: its CPU time and its largest process's memory."""
    print(f"long session: 36 min, one device, 3 partners x 100 segments, metrics={metrics}, --cores {cores}")
    with tempfile.TemporaryDirectory(prefix="bench_eval_long_") as tmp:
        data = Path(tmp) / "data"
        started = time.perf_counter()
        write_long_session(data)
        print(f"  data written in {time.perf_counter() - started:.0f} s")
        work = Path(tmp) / "run"
        work.mkdir()
        print_run(run_evaluation(data, data / "submission", work, cores, f"metrics={metrics}"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument(
        "--end-to-end",
        nargs="?",
        type=Path,
        const=default_fixture(),
        default=None,
        metavar="FIXTURE",
        help="run_evaluation.py on the fixture (default: %(const)s)",
    )
    mode.add_argument(
        "--long-session", action="store_true", help="run_evaluation.py on a generated 36-min session (quick metrics)"
    )
    ap.add_argument("--cores", type=int, default=2, help="Snakemake --cores of the end-to-end modes")
    ap.add_argument("--metrics", default="quick", help="metric set of --long-session")
    ap.add_argument("--segments", type=int, default=8, help="segments timed per metric")
    ap.add_argument("--seconds", type=float, default=2.0, help="segment length")
    ap.add_argument(
        "--jitter",
        type=float,
        default=0.0,
        help="segment lengths uniform in seconds +- jitter (DNSMOS's hop count depends on the length)",
    )
    ap.add_argument("--dev-segments", type=int, default=30000, help="segment scorings in a dev set")
    args = ap.parse_args()
    print(machine_info())
    if args.end_to_end is not None:
        return end_to_end(args.end_to_end.resolve(), args.cores)
    if args.long_session:
        return long_session(args.cores, args.metrics)
    pairs = segment_pairs(args.segments, args.seconds, jitter=args.jitter)
    dns = Dnsmos()
    sepm._ncm_design(FS)
    parts = {
        "sdr/sir/sar (BSS-eval, one source)": lambda e, r: signal.bss_eval_one_source(e, r),
        "si_snr": lambda e, r: signal.si_snr(e[None], r[None]),
        "ci_sdr": lambda e, r: signal.ci_sdr(e[None], r[None]),
        "pysepm spectra (fwsegsnr+wss)": lambda e, r: sepm.eps_spectra(r, e, FS),
        "pysepm_fwsegsnr": lambda e, r: sepm.fwsegsnr(r, e, FS),
        "pysepm_llr": lambda e, r: sepm.llr(r, e, FS),
        "pysepm_wss": lambda e, r: sepm.wss(r, e, FS),
        "pysepm_cd": lambda e, r: sepm.cepstrum_distance(r, e, FS),
        "pysepm composite (llr+wss+segsnr, PESQ given)": lambda e, r: sepm.composite(r, e, FS, 2.0),
        "pysepm_csii_*": lambda e, r: sepm.csii(r, e, FS),
        "pysepm_ncm": lambda e, r: sepm.ncm(r, e, FS),
        "pesq": lambda e, r: perceptual.pesq_raw(e, r, FS),
        "stoi": lambda e, r: perceptual.stoi(e, r, FS),
        "dns_overall/dns_p808 (DNSMOS)": lambda e, r: dns(e, FS),
        "  DNSMOS by speechmos's own hop loop (before)": lambda e, r: dns._model(e / np.max(np.abs(e)), FS, False),
    }
    print(f"\n{args.segments} segments of {args.seconds} +- {args.jitter} s, CPU s per segment (one thread):")
    with single_thread():
        for name, fn in parts.items():
            print(f"  {name:48s} {cpu_per_call(fn, pairs):8.4f}")
    print()
    for metric_set in ("quick", "full"):
        scorer = SegmentScorer(metric_set)
        per = cpu_per_call(scorer.score, pairs)
        hours = per * args.dev_segments / 3600
        print(
            f"  set {metric_set:5s}: {per:.3f} CPU s per segment -> {hours:.1f} CPU hours "
            f"for {args.dev_segments} segment scorings"
        )


if __name__ == "__main__":
    main()
