"""Benchmark: our baseline network against a naive, upstream-style evaluation of it.

Both variants run the same randomly initialised network (aria config unless told otherwise)
on the same random input, one window of ``--seconds``, after the speaker embedding has
been computed. "ours" is ``MCxTFGridNet.separate`` (sliced LSTMs, blocked causal attention
with online softmax, channels-last, in place). "naive" evaluates the same modules the way
upstream's code does: full-size tensors everywhere, and an attention that materialises the
``[B*H, T, T]`` scores, a float ``ones(T, T)`` tril mask, a masked copy and a softmax copy.

Each (variant, length) runs in its own subprocess so that its peak RSS (VmHWM) is its own.
Reported: wall and CPU seconds of the forward pass, peak RSS of the process, RSS before the
forward (imports + model + inputs), ours/naive ratios, and the max abs difference between
the two outputs where both ran at the same length.

Usage (from the repo root):
    .venv/bin/python benchmarks/bench_baseline.py --seconds 15 30 60 --naive-seconds 15 30

This is a benchmark, not a test: a 60 s naive window needs ~13 GB and ~14 min on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO / "tests" / "data" / "aria_config.yaml"


# --------------------------------------------------------------------------------------------
# The naive reference (runs only inside a worker process)


def _naive_head_norm(norm, x):  # type: ignore[no-untyped-def]
    """Upstream-style per-head PReLU + norm over E, all out of place: [B,H*E,T,F] -> [B,H,E,T,F]."""
    import torch

    b, _, t, f = x.shape
    x = norm.act(x.view(b, norm.n_head, norm.head_channels, t, f))
    mean = x.mean(dim=2, keepdim=True)
    std = torch.sqrt(x.var(dim=2, unbiased=False, keepdim=True) + norm.eps)
    return ((x - mean) / std) * norm.gamma + norm.beta


def _naive_block(block, x):  # type: ignore[no-untyped-def]
    """One GridBlock evaluated with full-size tensors, in upstream's order of operations."""
    import torch
    import torch.nn.functional as F

    batch, channels, n_t, n_f = x.shape
    ks, hs = block.emb_ks, block.emb_hs
    olp = ks - hs
    t_pad = -(-(n_t + 2 * olp - ks) // hs) * hs + ks
    f_pad = -(-(n_f + 2 * olp - ks) // hs) * hs + ks
    grid = F.pad(x.permute(0, 2, 3, 1), (0, 0, olp, f_pad - n_f - olp, olp, t_pad - n_t - olp))

    # bi-LSTM along bins, every frame at once
    z = block.intra_norm(grid).view(batch * t_pad, f_pad, channels).transpose(1, 2)
    z = F.unfold(z[..., None], (ks, 1), stride=(hs, 1)).transpose(1, 2)
    z, _ = block.intra_rnn(z)
    z = block.intra_linear(z.transpose(1, 2)).view(batch, t_pad, channels, f_pad)
    intra = z.transpose(-2, -1) + grid
    del z, grid

    # LSTM along frames, every bin at once
    along_t = intra.transpose(1, 2)  # [B, F', T', C]
    z = block.inter_norm(along_t).view(batch * f_pad, t_pad, channels).transpose(1, 2)
    z = F.unfold(z[..., None], (ks, 1), stride=(hs, 1)).transpose(1, 2)
    z, _ = block.inter_rnn(z)
    z = block.inter_linear(z.transpose(1, 2)).view(batch, f_pad, channels, t_pad)
    inter = (z.transpose(-2, -1) + along_t).permute(0, 3, 2, 1)
    inter = inter[..., olp : olp + n_t, olp : olp + n_f]  # [B, C, T, F]
    del z, along_t, intra

    # attention over frames with an explicit T x T score matrix
    n_head = block.n_head
    q = _naive_head_norm(block.attn_norm_Q, block.attn_conv_Q(inter))
    k = _naive_head_norm(block.attn_norm_K, block.attn_conv_K(inter))
    v = _naive_head_norm(block.attn_norm_V, block.attn_conv_V(inter))
    q = q.reshape(-1, *q.shape[2:]).transpose(1, 2).flatten(start_dim=2)  # [BH, T, E*F]
    k = k.reshape(-1, *k.shape[2:]).transpose(2, 3).contiguous().view(batch * n_head, -1, n_t)
    v = v.reshape(-1, *v.shape[2:]).transpose(1, 2)  # [BH, T, D, F]
    v_shape = v.shape
    v = v.flatten(start_dim=2)
    scores = torch.matmul(q, k) / (q.shape[-1] ** 0.5)  # [BH, T, T]
    keep = torch.tril(torch.ones(n_t, n_t)).bool().to(scores.device)
    scores = scores.masked_fill(~keep, float("-inf"))
    weights = F.softmax(scores, dim=2)
    del scores, keep, q, k
    mixed = torch.matmul(weights, v).reshape(v_shape).transpose(1, 2)
    del weights, v
    mixed = mixed.contiguous().view(batch, channels, n_t, n_f)
    return block.attn_concat_proj(mixed) + inter


def _naive_separate(model, spec, embedding):  # type: ignore[no-untyped-def]
    """The whole network, upstream style (channels-first, out of place)."""
    import torch

    batch, mics, n_bins, n_frames, _ = spec.shape
    feats = spec.transpose(2, 3).movedim(-1, 2).reshape(batch, 2 * mics, n_frames, n_bins)
    x = model.conv(feats)
    for film, block in zip(model.fusions, model.gridnets):
        x = _naive_block(block, film(embedding, x))
    out = model.deconv(x).view(batch, model.n_srcs, 2, n_frames, n_bins)
    return torch.complex(out[:, :, 0], out[:, :, 1]).unsqueeze(1).transpose(-1, -2)


def _proc_status_kb(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def _worker(args: argparse.Namespace) -> None:
    """Run one variant at one length; print one JSON line; save the output as .npy."""
    import numpy as np
    import torch
    import yaml

    sys.path.insert(0, str(REPO))
    from enhancement.baseline.inference import stft
    from enhancement.baseline.model import build_model

    if args.threads:
        torch.set_num_threads(args.threads)
    params = dict(yaml.safe_load(Path(args.config).read_text())["params"])
    params["n_imics"] = args.channels
    generator = torch.Generator().manual_seed(args.seed)
    torch.manual_seed(args.seed)
    model = build_model(params).eval()
    audio = 0.1 * torch.randn(args.channels, int(args.seconds * 16000), generator=generator)
    enrol = 0.1 * torch.randn(1, 3 * 16000, generator=generator)
    with torch.inference_mode():
        spk = stft(enrol)
        embedding = model.encode_speaker(spk, torch.tensor([spk.shape[2]]))
        spec = stft(audio)[None]
        rss_before = _proc_status_kb("VmRSS")
        wall0, cpu0 = time.perf_counter(), time.process_time()
        if args.variant == "ours":
            out = model.separate(spec, embedding)
        else:
            out = _naive_separate(model, spec, embedding)
        wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    peak = _proc_status_kb("VmHWM")
    np.save(args.out, torch.view_as_real(out).numpy())
    print(
        json.dumps(
            {
                "variant": args.variant,
                "seconds": args.seconds,
                "frames": int(spec.shape[3]),
                "wall_s": wall,
                "cpu_s": cpu,
                "peak_rss_mb": peak / 1024,
                "rss_before_mb": rss_before / 1024,
                "threads": torch.get_num_threads(),
            }
        )
    )


# --------------------------------------------------------------------------------------------
# The driver


def _machine_info() -> str:
    import torch

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as handle:
            names = [l.split(":", 1)[1].strip() for l in handle if l.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"cpu: {cpu}; cores: {os.cpu_count()} (usable {len(os.sched_getaffinity(0))}); "
        f"RAM {mem_gb:.1f} GiB; torch {torch.__version__}, {torch.get_num_threads()} threads; "
        f"python {platform.python_version()}; load average {os.getloadavg()}"
    )


def _run(variant: str, seconds: float, args: argparse.Namespace, out: Path) -> dict:
    command = [
        sys.executable,
        __file__,
        "--worker",
        "--variant",
        variant,
        "--seconds",
        str(seconds),
        "--channels",
        str(args.channels),
        "--config",
        str(args.config),
        "--seed",
        str(args.seed),
        "--out",
        str(out),
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{variant} {seconds}s failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["load_after"] = os.getloadavg()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, nargs="+", default=[60.0], help="window lengths for our model (default: 60)"
    )
    parser.add_argument(
        "--naive-seconds",
        type=float,
        nargs="*",
        default=[15.0],
        help="window lengths for the naive reference (default: 15)",
    )
    parser.add_argument("--channels", type=int, default=7)
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--variant", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.seconds = args.seconds[0]
        _worker(args)
        return

    import numpy as np

    print(_machine_info())
    print(f"config: {args.config} (n_imics={args.channels}), random weights, seed {args.seed}")
    print(
        f"{'variant':<7} {'sec':>5} {'frames':>6} {'wall s':>8} {'cpu s':>8} "
        f"{'peak RSS MB':>11} {'RSS before':>10} {'load':>5}",
        flush=True,
    )
    results: dict[tuple[str, float], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [("naive", s) for s in args.naive_seconds] + [("ours", s) for s in args.seconds]
        for variant, seconds in sorted(jobs, key=lambda j: (j[1], j[0])):
            out = Path(tmp) / f"{variant}_{seconds}.npy"
            r = _run(variant, seconds, args, out)
            r["out"] = out
            results[(variant, seconds)] = r
            print(
                f"{variant:<7} {seconds:>5g} {r['frames']:>6} {r['wall_s']:>8.1f} "
                f"{r['cpu_s']:>8.1f} {r['peak_rss_mb']:>11.0f} {r['rss_before_mb']:>10.0f} "
                f"{r['load_after']:>5.1f}",
                flush=True,
            )

        print("\nours / naive at the same length:")
        for seconds in sorted(set(args.seconds) & set(args.naive_seconds)):
            ours, naive = results[("ours", seconds)], results[("naive", seconds)]
            a, b = np.load(ours["out"]), np.load(naive["out"])
            diff = float(np.abs(a - b).max())
            own = (ours["peak_rss_mb"] - ours["rss_before_mb"]) / max(
                1e-9, naive["peak_rss_mb"] - naive["rss_before_mb"]
            )
            print(
                f"  {seconds:g} s: wall {ours['wall_s'] / naive['wall_s']:.2f}x, "
                f"cpu {ours['cpu_s'] / naive['cpu_s']:.2f}x, "
                f"peak RSS {ours['peak_rss_mb'] / naive['peak_rss_mb']:.3f}x "
                f"(forward's own increment {own:.3f}x); "
                f"max |ours - naive| = {diff:.3g} (max |naive| = {float(np.abs(b).max()):.3g})"
            )


if __name__ == "__main__":
    main()
