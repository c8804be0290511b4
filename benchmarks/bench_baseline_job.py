"""One session-device through the `baseline` system: the whole enhance job's memory and time.

    .venv/bin/python benchmarks/bench_baseline_job.py --model aria --minutes 1
    .venv/bin/python benchmarks/bench_baseline_job.py --model tiny --window 8 --stride 6 --minutes 5 20

Runs the real enhance job (Snakemake, the registered `baseline`, three partners) on a
synthetic Aria session, with a model of the given config and random weights (saved as a
checkpoint here: no download). `tiny` (tests/data/tiny_config.yaml) with short windows is
cheap enough for 20-minute sessions (~17 s of job per minute on 2 cores), and shows what
the job holds besides the network's own window (session, outputs, overlap-add); `aria` is the official model's size, whose one-window
cost `bench_baseline.py` measures on its own. Figures come from the job's own log.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import soundfile as sf
from _common import REPO, job_figures, one_session_dataset, run_child, run_for_each_length, snakemake

CONFIGS = {"tiny": REPO / "tests/data/tiny_config.yaml", "aria": REPO / "tests/data/aria_config.yaml"}

RANDOM_CHECKPOINT = """
import torch, yaml
from enhancement.baseline.model import build_model
torch.manual_seed(0)
params = yaml.safe_load(open({config!r}))["params"]
torch.save(build_model(params).state_dict(), {ckpt!r})
"""

BARE = "import torch, soundfile, snakemake, enhancement.baseline.model"  # interpreter and imports


def bench(minutes: float, scratch: Path, model: str, window: float, stride: float, threads: int) -> None:
    data = scratch / "data"
    one_session_dataset(data, minutes)
    ckpt = scratch / f"{model}_random.pt"
    run_child(RANDOM_CHECKPOINT.format(config=str(CONFIGS[model]), ckpt=str(ckpt)))
    args = scratch / "baseline_bench.yaml"
    args.write_text(
        f"name: baseline\nargs:\n  config_path: {CONFIGS[model]}\n  ckpt_path: {ckpt}\n"
        f"  window_size: {window}\n  stride: {stride}\nsample_rate: 16000\nthreads: {threads}\n"
    )
    common = (
        "--cores",
        str(threads),
        "--config",
        f"data_root={data}",
        "devices=[aria]",
        "enhancement_name=baseline",
        f"enhance_args={args}",
        "evaluate_datasets=[]",
    )
    snakemake(scratch, "resample", *common)
    src = scratch / "work/resampled/16000/aria/dev/long.aria.wav"
    info = sf.info(str(src))
    session_mb = info.frames * info.channels * 4 / 1e6
    bare = run_child(BARE)
    snakemake(scratch, *common)
    log = scratch / "work/logs/enhance/baseline/dev/long.aria.log"
    wall, peak = job_figures(log)
    windows = log.read_text().count(": window ")
    print(
        f"\n{minutes} min, {info.channels} ch at 16 kHz (float32 session {session_mb:.0f} MB), "
        f"model {model}, window {window:g} s / stride {stride:g} s, {threads} thread(s)"
    )
    print(f"  enhance job (3 partners, {windows} windows in all): {wall:.1f} s, peak {peak:.0f} MB")
    print(
        f"  interpreter + imports alone {bare['peak_mb']:.0f} MB; "
        f"job - session - imports = {peak - session_mb - bare['peak_mb']:.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(CONFIGS), default="tiny")
    parser.add_argument("--window", type=float, default=60.0, help="window_size, s (upstream 60)")
    parser.add_argument("--stride", type=float, default=56.0, help="stride, s (upstream 56)")
    parser.add_argument("--threads", type=int, default=2)
    # 1 minute by default: the aria model takes ~4.5 min per 60 s window on 2 cores
    run_for_each_length(bench, __doc__, parser, default_minutes=1.0)


if __name__ == "__main__":
    main()
