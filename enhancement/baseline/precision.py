"""Float32 arithmetic modes for the baseline on CUDA: exact IEEE float32 or TF32.

PyTorch lets cuDNN use TF32 tensor cores for float32 convolutions and LSTMs by default
(``torch.backends.cudnn.{conv,rnn}.fp32_precision == "tf32"``), which would make the GPU
result differ from the CPU one by far more than rounding. The baseline therefore runs its
model calls inside :func:`float32_mode`, which sets matmuls, convolutions and LSTMs to the
requested mode for the duration of the call and restores the previous settings after.
On CPU the settings have no effect: CPU float32 is always IEEE.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["PRECISIONS", "float32_mode"]

# "float32": IEEE float32 everywhere (the default; meant to equal the CPU result up to rounding).
# "tf32": TF32 tensor cores for matmuls, convolutions and LSTMs (faster on Ampere and later,
# ~10-bit mantissa products; its error is measured by benchmarks/bench_gpu.py).
PRECISIONS = ("float32", "tf32")


def _backends() -> list[object]:
    return [torch.backends.cuda.matmul, torch.backends.cudnn.conv, torch.backends.cudnn.rnn]


@contextlib.contextmanager
def float32_mode(precision: str) -> Iterator[None]:
    """Run the body with float32 matmuls/convs/LSTMs in ``precision`` ("float32" or "tf32")."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}; got {precision!r}")
    wanted = "ieee" if precision == "float32" else "tf32"
    backends = _backends()
    saved = [backend.fp32_precision for backend in backends]
    try:
        for backend in backends:
            backend.fp32_precision = wanted
        yield
    finally:
        for backend, value in zip(backends, saved):
            backend.fp32_precision = value
