"""CPU seconds per 2-s segment of the official ECHI metrics, per metric, and a dev-set estimate.

Generated speech-like audio (no downloads): voiced harmonic bursts with moving
pitch and formant-like filtering, syllable envelopes and pauses; the "output" is
the reference plus noise, a leak of another talker and a gain. Every metric is
timed alone on the same segments (CPU time of this process, one thread, as a
scoring job runs), then the whole ``full`` and ``quick`` sets through
``SegmentScorer.score``; the totals are extrapolated to a dev set of
``--dev-segments`` segment scorings.

    .venv/bin/python benchmarks/bench_evaluate.py --segments 8
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info

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


def segment_pairs(count: int, seconds: float, seed: int = 0,
                  jitter: float = 0.0) -> list[tuple[np.ndarray, np.ndarray]]:
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--segments", type=int, default=8, help="segments timed per metric")
    ap.add_argument("--seconds", type=float, default=2.0, help="segment length")
    ap.add_argument("--jitter", type=float, default=0.0,
                    help="segment lengths uniform in seconds +- jitter (DNSMOS's hop count depends on the length)")
    ap.add_argument("--dev-segments", type=int, default=30000, help="segment scorings in a dev set")
    args = ap.parse_args()
    print(machine_info())
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
        print(f"  set {metric_set:5s}: {per:.3f} CPU s per segment -> {hours:.1f} CPU hours "
              f"for {args.dev_segments} segment scorings")


if __name__ == "__main__":
    main()
