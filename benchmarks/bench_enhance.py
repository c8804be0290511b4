"""One session-device through `passthrough`: the workflow's enhance job vs loading per partner.

    .venv/bin/python benchmarks/bench_enhance.py --minutes 10 36.5

Naive (the upstream recipe's loop): for each of the three partners, read the whole
16 kHz session (float64, as sf.read gives it), take channel 0, write the file. Ours: the real
enhance job run by Snakemake on the already resampled session (figures from its own log).
The bound for ours: one session at 16 kHz as float32 plus a constant (interpreter, torch).
"""

from __future__ import annotations

from pathlib import Path

import soundfile as sf
from _common import job_figures, one_session_dataset, run_child, run_for_each_length, snakemake

NAIVE = """
import soundfile as sf, torch
for pid in ("P2", "P3", "P4"):
    x, fs = sf.read({src!r})
    audio = torch.from_numpy(x.T)
    sf.write({out!r} + pid + ".wav", audio[0].numpy(), fs, subtype="PCM_16")
"""

BARE = "import torch, soundfile, snakemake"  # the constant: interpreter and imports


def bench(minutes: float, scratch: Path) -> None:
    data = scratch / "data"
    one_session_dataset(data, minutes)
    common = ("--cores", "1", "--config", f"data_root={data}", "devices=[aria]")
    snakemake(scratch, "resample", *common)
    src = scratch / "work/resampled/16000/aria/dev/long.aria.wav"
    info = sf.info(str(src))
    session_mb = info.frames * info.channels * 4 / 1e6
    naive = run_child(NAIVE.format(src=str(src), out=str(scratch / "naive.")))
    bare = run_child(BARE)
    total = snakemake(scratch, *common)
    ours_wall, ours_peak = job_figures(scratch / "work/logs/enhance/passthrough/dev/long.aria.log")
    print(
        f"\n{minutes} min, {info.channels} ch at 16 kHz: float32 session {session_mb:.0f} MB; "
        f"interpreter + torch + snakemake alone {bare['peak_mb']:.0f} MB"
    )
    print(f"  {'':34} {'wall s':>8} {'peak RSS MB':>12}")
    print(f"  {'naive (load once per partner)':34} {naive['wall_s']:8.1f} {naive['peak_mb']:12.0f}")
    print(f"  {'ours (enhance job, 3 outputs)':34} {ours_wall:8.1f} {ours_peak:12.0f}")
    print(
        f"  ours/naive: wall {ours_wall / naive['wall_s']:.2f}x, memory {ours_peak / naive['peak_mb']:.2f}x; "
        f"ours - session - imports = {ours_peak - session_mb - bare['peak_mb']:.0f} MB; "
        f"whole snakemake call {total:.1f} s"
    )


if __name__ == "__main__":
    run_for_each_length(bench, __doc__)
