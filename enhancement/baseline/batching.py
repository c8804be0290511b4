"""How many windows go through the baseline network at once, and with what working sizes.

On a GPU the network is latency-bound when run one window at a time (the frame-axis LSTM
is ~15000 sequential steps per layer for a 60 s window), so windows of a session, and the
partners of a session-device, are stacked into one batch as far as memory allows. The
budget is a fraction of the memory the device reports free (``torch.cuda.mem_get_info``),
never a fixed figure. On CPU the default stays one window at a time with the model's own
working sizes (the figures in benchmarks/README.md), unless a batch size is asked for.

The per-window figures below are estimates from the tensor shapes the network keeps
(the feature map, the padded grid of the LSTM stage, the STFT in and out) and from the
temporaries of one LSTM slice and one attention block; ``benchmarks/bench_gpu.py`` prints
the estimate beside the measured peak.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from enhancement.baseline.model import MCxTFGridNet, _padded_length

__all__ = [
    "Plan",
    "Planner",
    "fixed_planner",
    "free_device_memory",
    "memory_planner",
    "window_bytes",
    "working_sizes",
]

_FLOAT = 4
# Share of the budget kept for the windows' own tensors; the rest is for the temporaries of
# one LSTM slice or one attention block (they never coexist), plus allocator slack.
_RESIDENT_SHARE = 0.5
# Attention block sizes tried, largest first (frames).
_QUERY_BLOCKS = (8192, 4096, 2048, 1024, 512, 256, 128)
_KEY_BLOCK = 1024


@dataclass(frozen=True)
class Plan:
    """Windows per model call, and the GridBlock working sizes (None: the model's own)."""

    batch: int
    intra_positions: int | None = None
    inter_positions: int | None = None
    query_block: int | None = None
    key_block: int | None = None


# A planner maps (frames per window, windows of that length to run) to a Plan.
Planner = Callable[[int, int], Plan]


def fixed_planner(batch: int = 1) -> Planner:
    """Always ``batch`` windows per call with the model's own working sizes (the CPU way)."""
    if batch < 1:
        raise ValueError(f"batch_windows must be at least 1, got {batch}")
    return lambda n_frames, n_items: Plan(batch=max(1, min(batch, n_items)))


def free_device_memory(device: torch.device) -> int | None:
    """Free bytes on a CUDA device (``torch.cuda.mem_get_info``); None for other devices."""
    if device.type != "cuda":
        return None
    free, _total = torch.cuda.mem_get_info(device)
    # Memory torch's allocator holds but does not use is free to us as well.
    stats = torch.cuda.memory_stats(device)
    cached = stats.get("reserved_bytes.all.current", 0) - stats.get("allocated_bytes.all.current", 0)
    return int(free + max(0, cached))


def _shape(model: MCxTFGridNet) -> tuple[int, int, int, int, int, int, int]:
    block = model.gridnets[0]
    return (
        block.emb_dim,
        block.emb_ks,
        block.emb_hs,
        block.hidden_channels,
        block.attn_norm_Q.head_channels,
        block.attn_norm_V.head_channels,
        model.n_imics,
    )


def window_bytes(model: MCxTFGridNet, n_frames: int, n_bins: int) -> int:
    """Bytes one window keeps through ``separate``: feature map (twice, at the input conv),
    the padded grid of the LSTM stage, the STFT input and its features, the output."""
    channels, ks, hs, _, _, _, mics = _shape(model)
    frames_pad = _padded_length(n_frames, ks, hs)
    bins_pad = _padded_length(n_bins, ks, hs)
    feature = n_frames * n_bins * channels
    grid = frames_pad * bins_pad * channels
    io = n_frames * n_bins * (2 * mics * 3 + 4 * model.n_srcs + 4)
    return _FLOAT * (2 * feature + grid + io)


def _lstm_position_bytes(model: MCxTFGridNet) -> int:
    """Temporaries per (sequence, step) of the bin-axis bi-LSTM (the larger of the two)."""
    channels, ks, _, hidden, _, _, _ = _shape(model)
    # norm out, unfolded input, input gates of both directions, output, projection back
    return _FLOAT * (channels + channels * ks + 2 * 4 * hidden + 2 * 2 * hidden + 2 * channels)


def _attention_item_bytes(model: MCxTFGridNet, n_bins: int, q_block: int, k_block: int) -> int:
    """Temporaries of one head's query block against one key block, per batch item."""
    channels, _, _, _, e_qk, e_v, _ = _shape(model)
    per_query = n_bins * (e_qk + e_v + 3 * channels)  # q, acc, mixed, projection out
    per_key = n_bins * 2 * (e_qk + e_v)  # k, v and their projections before the norm
    scores = 2 * q_block * k_block + q_block * k_block // _FLOAT  # scores, exp, bool mask
    return _FLOAT * (q_block * per_query + k_block * per_key + scores)


def memory_planner(model: MCxTFGridNet, budget_bytes: int, n_bins: int) -> Planner:
    """Plans that fit ``budget_bytes``: as many windows as half the budget holds, the rest
    for the largest LSTM slices and attention blocks that fit beside them."""
    if budget_bytes <= 0:
        raise ValueError(f"memory budget must be positive, got {budget_bytes} bytes")

    def plan(n_frames: int, n_items: int) -> Plan:
        resident = window_bytes(model, n_frames, n_bins)
        batch = max(1, min(n_items, int(budget_bytes * _RESIDENT_SHARE) // resident))
        while True:
            spare = budget_bytes - batch * resident
            q_block = next(
                (
                    q
                    for q in _QUERY_BLOCKS
                    if batch * _attention_item_bytes(model, n_bins, q, min(q, _KEY_BLOCK)) <= spare
                ),
                None,
            )
            if q_block is not None or batch == 1:
                break
            batch = max(1, batch // 2)
        q_block = q_block or _QUERY_BLOCKS[-1]
        positions = max(1, spare // _lstm_position_bytes(model)) if spare > 0 else 1
        return Plan(
            batch=batch,
            intra_positions=int(positions),
            inter_positions=int(positions),
            query_block=min(q_block, max(1, n_frames)),
            key_block=min(q_block, _KEY_BLOCK),
        )

    return plan


@contextlib.contextmanager
def working_sizes(model: MCxTFGridNet, plan: Plan) -> Iterator[None]:
    """Set the GridBlocks' slice and block sizes from ``plan`` for a while, then restore."""
    names = ("intra_positions", "inter_positions", "query_block", "key_block")
    kept = (*names, "feature_frames")
    saved = [{name: getattr(block, name) for name in kept} for block in model.gridnets]
    try:
        for block in model.gridnets:
            for name in names:
                value = getattr(plan, name)
                if value is not None:
                    setattr(block, name, int(value))
            if plan.key_block is not None:
                block.feature_frames = int(plan.key_block)
        yield
    finally:
        for block, values in zip(model.gridnets, saved):
            for name, value in values.items():
                setattr(block, name, value)
