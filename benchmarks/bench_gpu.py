"""Benchmark: the baseline batched on a GPU, against the upstream way, and GPU against CPU.

Needs torch alone (no soundfile, soxr, yaml or Snakemake): the model is the official aria
config with random weights, the inputs are random. Prints, as it goes:

1. GPU against CPU on a short input (``--short-seconds``, 3 partners, 4 s windows): the
   maximum difference of the float32 GPU result (and of the TF32 one) from the CPU result
   of ``enhance_session`` (one window at a time), relative to the CPU output's peak.
2. One 60 s Aria window: ours (``separate`` with the working sizes planned for the free
   memory) against the upstream way (full-size tensors, full ``T x T`` attention scores:
   the naive evaluation of ``bench_baseline.py``), wall time and peak GPU memory each.
3. A whole ``--session-minutes`` (36.5) Aria session-device, 3 partners, ours
   (``enhance_partners`` with the memory planner), float32 and, with ``--tf32``, TF32:
   wall, peak GPU memory, the plan; and the upstream way projected from part 2 (one
   window x windows x partners, as upstream runs them: window by window, partner by partner).

Usage, on the GPU machine from the repository root (about 3-4 minutes on one H200):
    python benchmarks/bench_gpu.py --tf32

and on CPU, tiny sizes, to check that it runs:
    .venv/bin/python benchmarks/bench_gpu.py --device cpu --quick
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch
from bench_baseline import _naive_separate

from enhancement.baseline.batching import (
    Plan,
    fixed_planner,
    free_device_memory,
    memory_planner,
    window_bytes,
    working_sizes,
)
from enhancement.baseline.inference import enhance_partners, stft
from enhancement.baseline.model import MCxTFGridNet
from enhancement.baseline.precision import float32_mode

# params of the official checkpoints/aria_config.yaml (as tests/data/aria_config.yaml)
ARIA_PARAMS = {
    "n_srcs": 1,
    "n_imics": 7,
    "n_layers": 3,
    "lstm_hidden_units": 128,
    "attn_n_head": 4,
    "attn_qk_output_channel": 128,
    "emb_dim": 64,
    "emb_ks": 4,
    "emb_hs": 1,
    "activation": "prelu",
    "eps": 1.0e-5,
}
RATE = 16000
N_BINS = 65


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak_gb(device: torch.device) -> str:
    """Peak GPU memory allocated since the last reset (CPU: the process's peak RSS)."""
    if device.type == "cuda":
        return (
            f"{torch.cuda.max_memory_allocated(device) / 1e9:.1f} GB allocated, "
            f"{torch.cuda.max_memory_reserved(device) / 1e9:.1f} GB reserved"
        )
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmHWM:"):
                return f"{int(line.split()[1]) / 1e6:.1f} GB process peak RSS (CPU)"
    return "?"


def _rel_diff(got: torch.Tensor, ref: torch.Tensor) -> float:
    return float((got - ref).abs().max() / ref.abs().max())


def _budget(device: torch.device, args: argparse.Namespace) -> int | None:
    free = free_device_memory(device)
    if free is None:
        return None
    return int(min(free * args.memory_fraction, args.budget_gb * 1e9))


def _planner(model: MCxTFGridNet, device: torch.device, args: argparse.Namespace, record: list):
    budget = _budget(device, args)
    inner = memory_planner(model, budget, N_BINS) if budget else fixed_planner(args.cpu_batch)

    def plan(n_frames: int, n_items: int) -> Plan:
        chosen = inner(n_frames, n_items)
        record.append((n_frames, n_items, chosen))
        return chosen

    return plan


def _random_inputs(seconds: float, partners: int, seed: int) -> tuple[torch.Tensor, list]:
    gen = torch.Generator().manual_seed(seed)
    audio = 0.1 * torch.randn(ARIA_PARAMS["n_imics"], int(seconds * RATE), generator=gen)
    enrolments = [0.1 * torch.randn(1, (3 + p) * RATE, generator=gen) for p in range(partners)]
    return audio, enrolments


def part_short(model: MCxTFGridNet, device: torch.device, args: argparse.Namespace) -> None:
    print(
        f"\n[1] {device.type} against CPU, {args.short_seconds:g} s input, 3 partners, "
        f"windows {args.short_window:g} s / stride {args.short_stride:g} s",
        flush=True,
    )
    audio, enrolments = _random_inputs(args.short_seconds, 3, seed=1)
    cpu_model = copy.deepcopy(model).cpu()
    started = time.perf_counter()
    reference = enhance_partners(cpu_model, audio, enrolments, args.short_window, args.short_stride)
    print(f"    CPU, one window at a time: {time.perf_counter() - started:.1f} s", flush=True)
    for precision in ("float32", "tf32") if device.type == "cuda" else ("float32",):
        record: list = []
        _sync(device)
        started = time.perf_counter()
        with float32_mode(precision):
            got = enhance_partners(
                model,
                audio,
                enrolments,
                args.short_window,
                args.short_stride,
                planner=_planner(model, device, args, record),
            )
        _sync(device)
        wall = time.perf_counter() - started
        worst = max(_rel_diff(g, r) for g, r in zip(got, reference))
        print(
            f"    {device.type} {precision}, batched ({record[0][2].batch} per call): "
            f"{wall:.1f} s; max |{device.type} - CPU| / max |CPU| = {worst:.2e}",
            flush=True,
        )


def part_window(model: MCxTFGridNet, device: torch.device, args: argparse.Namespace) -> float:
    seconds = args.window
    print(f"\n[2] one {seconds:g} s Aria window, float32", flush=True)
    audio, enrolments = _random_inputs(seconds, 1, seed=2)
    with torch.inference_mode(), float32_mode("float32"):
        spk = stft(enrolments[0].to(device))
        embedding = model.encode_speaker(spk, torch.tensor([spk.shape[2]], device=device))
        spec = stft(audio.to(device))[None]
        n_frames = spec.shape[3]
        record: list = []
        plan = _planner(model, device, args, record)(n_frames, 1)
        warm = spec[..., : min(n_frames, 200), :]  # cuDNN / cuBLAS set-up outside the timings
        model.separate(warm, embedding)
        _naive_separate(model, warm, embedding)
        results = {}
        for name in ("ours", "upstream"):
            if name == "upstream" and args.skip_upstream:
                continue
            _reset_peak(device)
            _sync(device)
            started = time.perf_counter()
            if name == "ours":
                with working_sizes(model, plan):
                    out = model.separate(spec, embedding)
            else:
                out = _naive_separate(model, spec, embedding)
            _sync(device)
            wall = time.perf_counter() - started
            results[name] = (wall, out)
            print(f"    {name:<8} {wall:7.2f} s   peak {_peak_gb(device)}", flush=True)
            del out
        print(
            f"    plan for ours: {plan}; estimated resident "
            f"{window_bytes(model, n_frames, N_BINS) / 1e9:.2f} GB per window"
        )
        if "upstream" in results:
            ours, upstream = results["ours"], results["upstream"]
            print(
                f"    ours / upstream wall: {ours[0] / upstream[0]:.2f}x; "
                f"max |ours - upstream| / max |upstream| = {_rel_diff(ours[1], upstream[1]):.2e}"
            )
            return upstream[0]
    return float("nan")


def part_session(model: MCxTFGridNet, device: torch.device, args: argparse.Namespace, upstream_window_s: float) -> None:
    minutes = args.session_minutes
    audio, enrolments = _random_inputs(minutes * 60, 3, seed=3)
    n_windows = max(1, -(-(audio.shape[1] - int(args.window * RATE)) // int(args.stride * RATE)) + 1)
    for precision in ("float32", "tf32") if args.tf32 else ("float32",):
        print(
            f"\n[3] a {minutes:g}-minute Aria session-device, 3 partners, {precision} "
            f"({args.window:g} s windows, stride {args.stride:g} s: about {n_windows} windows "
            "per partner)",
            flush=True,
        )
        record: list = []
        _reset_peak(device)
        started = time.perf_counter()
        with float32_mode(precision):
            outs = enhance_partners(
                model, audio, enrolments, args.window, args.stride, planner=_planner(model, device, args, record)
            )
        _sync(device)
        wall = time.perf_counter() - started
        print(f"    ours: {wall:.1f} s   peak {_peak_gb(device)}", flush=True)
        for n_frames, n_items, plan in record:
            print(f"    {n_items} windows of {n_frames} frames: {plan}")
        if not math.isnan(upstream_window_s):
            projected = upstream_window_s * n_windows * 3
            print(
                f"    upstream way, projected (one window x {n_windows} x 3 partners): "
                f"{projected:.0f} s; upstream / ours = {projected / wall:.1f}x"
            )
        assert all(bool(torch.isfinite(o).all()) for o in outs)
        del outs


def _machine(device: torch.device) -> str:
    facts = [
        f"python {platform.python_version()}",
        f"torch {torch.__version__}",
        f"cpu threads {torch.get_num_threads()}",
        f"cores {os.cpu_count()}",
    ]
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        facts += [
            f"gpu {props.name} ({props.total_memory / 1e9:.0f} GB)",
            f"cuda {torch.version.cuda}",
            f"cudnn {torch.backends.cudnn.version()}",
        ]
    return "; ".join(facts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes (2 s windows, a 4.8 s session, a 2 s short input)"
    )
    parser.add_argument("--session-minutes", type=float, default=36.5)
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--stride", type=float, default=56.0)
    parser.add_argument("--short-seconds", type=float, default=10.5)
    parser.add_argument("--short-window", type=float, default=4.0)
    parser.add_argument("--short-stride", type=float, default=3.0)
    parser.add_argument(
        "--memory-fraction", type=float, default=0.8, help="share of the free GPU memory to plan batches for"
    )
    parser.add_argument(
        "--budget-gb", type=float, default=80.0, help="cap on that budget (the goal is under 100 GB of GPU memory)"
    )
    parser.add_argument(
        "--cpu-batch", type=int, default=4, help="windows per call with --device cpu (CPU batching checked in [1])"
    )
    parser.add_argument("--tf32", action="store_true", help="also run the session in TF32")
    parser.add_argument("--skip-upstream", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.session_minutes, args.window, args.stride = 0.08, 2.0, 1.5
        args.short_seconds, args.short_window, args.short_stride = 2.0, 1.0, 0.75
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("no CUDA device visible to torch; run with --device cpu --quick here")

    print(_machine(device))
    free = free_device_memory(device)
    if free is not None:
        print(f"free GPU memory {free / 1e9:.1f} GB; budget {_budget(device, args) / 1e9:.1f} GB")
    torch.manual_seed(0)
    model = MCxTFGridNet(**ARIA_PARAMS).to(device).eval()
    print(
        f"model: official aria config, random weights ({sum(p.numel() for p in model.parameters())} parameters)",
        flush=True,
    )
    started = time.perf_counter()
    part_short(model, device, args)
    upstream_window_s = part_window(model, device, args)
    part_session(model, device, args, upstream_window_s)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
