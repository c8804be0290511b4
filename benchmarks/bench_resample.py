"""Resampling one long 48 kHz recording to 16 kHz: the workflow's resample job vs the naive way.

    .venv/bin/python benchmarks/bench_resample.py --minutes 10 36.5

Naive (the upstream recipe): sf.read of the whole file as float64, one soxr.resample call,
sf.write. Floor: just reading the file in float32 blocks. Ours: the real `resample_device`
job run by Snakemake (its figures are the ones the job logs about itself).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
from _common import job_figures, one_session_dataset, run_child, run_for_each_length, snakemake

NAIVE = """
import soundfile as sf, soxr
x, fs = sf.read({src!r})
sf.write({dst!r}, soxr.resample(x, fs, 16000), 16000, subtype="PCM_16")
"""

FLOOR = """
import soundfile as sf
with sf.SoundFile({src!r}) as f:
    for block in f.blocks(blocksize=1 << 16, dtype="float32"):
        pass
"""


def max_difference(a: Path, b: Path) -> float:
    worst = 0.0
    with sf.SoundFile(str(a)) as fa, sf.SoundFile(str(b)) as fb:
        assert fa.frames == fb.frames, (fa.frames, fb.frames)
        for x, y in zip(fa.blocks(1 << 16, dtype="float32"), fb.blocks(1 << 16, dtype="float32")):
            worst = max(worst, float(np.abs(x - y).max()))
    return worst


def bench(minutes: float, scratch: Path) -> None:
    data = scratch / "data"
    one_session_dataset(data, minutes)
    src = data / "aria" / "dev" / "long.aria.wav"
    naive_out = scratch / "naive.wav"
    floor = run_child(FLOOR.format(src=str(src)))
    naive = run_child(NAIVE.format(src=str(src), dst=str(naive_out)))
    target = "work/resampled/16000/aria/dev/long.aria.wav"
    total = snakemake(scratch, target, "--cores", "1", "--config", f"data_root={data}")
    ours_wall, ours_peak = job_figures(scratch / "work/logs/resample/16000/aria/dev/long.aria.log")
    diff = max_difference(scratch / target, naive_out)
    channels = sf.info(str(src)).channels
    print(f"\n{minutes} min, {channels} ch, 48 kHz PCM_16 ({src.stat().st_size / 1e9:.2f} GB) -> 16 kHz")
    print(f"  {'':28} {'wall s':>8} {'peak RSS MB':>12}")
    print(f"  {'naive (float64, one shot)':28} {naive['wall_s']:8.1f} {naive['peak_mb']:12.0f}")
    print(f"  {'ours (resample job)':28} {ours_wall:8.1f} {ours_peak:12.0f}")
    print(f"  {'floor (read float32 blocks)':28} {floor['wall_s']:8.1f} {floor['peak_mb']:12.0f}")
    print(
        f"  ours/naive: wall {ours_wall / naive['wall_s']:.2f}x, memory {ours_peak / naive['peak_mb']:.3f}x; "
        f"ours/floor wall {ours_wall / floor['wall_s']:.1f}x; whole snakemake call {total:.1f} s; "
        f"max |ours - naive| = {diff:.2e}"
    )


if __name__ == "__main__":
    run_for_each_length(bench, __doc__)
