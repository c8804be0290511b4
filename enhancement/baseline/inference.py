"""Whole-session inference for the baseline: STFT helpers and windowed overlap-add.

The session is cut into windows of ``window_size_s`` starting every ``stride_s``; each window
is enhanced on its own and the results are cross-faded with the two halves of a Hann window
over the ``window - stride`` overlap (the rising half fades a window in, the falling half
fades the previous one out; the two halves sum to one).

Differences from upstream's ``Baseline.process_session`` (same numbers otherwise):

* Upstream keeps starting windows at ``0, stride, 2*stride, ...`` while the start is inside
  the session. When ``length % stride`` falls in ``(0, overlap]`` the previous window already
  reaches the end, so the last window lies wholly inside it, is too short to be faded, and
  is added on top: its samples get weight 2. We stop at the first window that reaches the
  end, so every sample's weights sum to one (see :func:`plan_windows`).
* The enrolment is encoded once per session instead of once per window (the speaker
  embedding does not depend on the window).
* A tail shorter than half an FFT frame cannot be STFT'd upstream (reflect padding fails);
  we zero-pad it to one FFT length instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch

from enhancement.baseline.model import MCxTFGridNet

__all__ = [
    "SAMPLE_RATE",
    "StftParams",
    "stft",
    "istft",
    "plan_windows",
    "overlap_add",
    "window_samples",
    "window_renderer",
    "enhance_session",
]

SAMPLE_RATE = 16000

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class StftParams:
    """STFT settings of the official configs (``input.stft``): 128-point Hann, hop 64."""

    n_fft: int = 128
    hop_length: int = 64
    win_length: int = 128

    @classmethod
    def from_config(cls, stft_cfg: Mapping[str, Any]) -> "StftParams":
        """Build from a config's ``input.stft`` mapping; only a Hann window is supported."""
        window = stft_cfg.get("window", "hann")
        if window not in ("hann", "hanning", None):
            raise ValueError(f"unsupported STFT window {window!r} (only 'hann')")
        n_fft = int(stft_cfg.get("n_fft", cls.n_fft))
        return cls(
            n_fft=n_fft,
            hop_length=int(stft_cfg.get("hop_length", cls.hop_length)),
            win_length=int(stft_cfg.get("win_length") or n_fft),
        )

    def window(self, like: torch.Tensor) -> torch.Tensor:
        return torch.hann_window(self.win_length, dtype=like.real.dtype, device=like.device)


def stft(audio: torch.Tensor, params: StftParams = StftParams()) -> torch.Tensor:
    """``[..., N]`` real audio -> ``[..., F, T, 2]`` (real/imag), centred frames."""
    lead = audio.shape[:-1]
    spec = torch.stft(
        audio.reshape(-1, audio.shape[-1]),
        n_fft=params.n_fft,
        hop_length=params.hop_length,
        win_length=params.win_length,
        window=params.window(audio),
        center=True,
        return_complex=True,
    )
    return torch.view_as_real(spec).reshape(*lead, *spec.shape[-2:], 2)


def istft(spec: torch.Tensor, params: StftParams = StftParams()) -> torch.Tensor:
    """Complex ``[..., F, T]`` -> ``[..., hop * (T - 1)]`` audio (inverse of :func:`stft`)."""
    lead = spec.shape[:-2]
    audio = torch.istft(
        spec.reshape(-1, *spec.shape[-2:]),
        n_fft=params.n_fft,
        hop_length=params.hop_length,
        win_length=params.win_length,
        window=params.window(spec),
        center=True,
    )
    return audio.reshape(*lead, audio.shape[-1])


def window_samples(
    window_size_s: float, stride_s: float, params: StftParams = StftParams(),
    sample_rate: int = SAMPLE_RATE,
) -> tuple[int, int]:
    """Window and stride in samples; the window is rounded up to whole STFT hops, as upstream."""
    window = int(round(window_size_s * sample_rate))
    stride = int(round(stride_s * sample_rate))
    rem = (window - params.n_fft) % params.hop_length
    if rem:
        window += params.hop_length - rem
    if stride <= 0 or window <= 0:
        raise ValueError(f"window ({window_size_s} s) and stride ({stride_s} s) must be positive")
    if stride > window:
        raise ValueError(f"stride ({stride_s} s) must not exceed the window ({window_size_s} s)")
    if 2 * stride < window:
        # With more than two windows over a sample the half-Hann fades no longer sum to one.
        raise ValueError(
            f"stride ({stride_s} s) must be at least half the window ({window_size_s} s)"
        )
    return window, stride


def plan_windows(n_samples: int, window: int, stride: int) -> list[tuple[int, int]]:
    """``(start, end)`` of each window: starts every ``stride``, stops once the end is reached.

    Every window but the last is ``window`` long and the last one ends at ``n_samples``.
    Stopping at the first window that reaches the end is the fix for upstream's tail bug:
    the last window always extends more than ``overlap`` past its predecessor's fade-out
    start, so it can be faded in properly and no sample is covered by three windows.
    """
    if n_samples <= 0:
        return []
    spans = []
    start = 0
    while True:
        end = min(start + window, n_samples)
        spans.append((start, end))
        if end >= n_samples:
            return spans
        start += stride


def overlap_add(
    n_samples: int,
    window: int,
    stride: int,
    render: Callable[[int, int], torch.Tensor],
    progress: ProgressFn | None = None,
) -> torch.Tensor:
    """Cross-fade ``render(start, end)`` (a 1-D tensor of ``end - start`` samples) per window.

    The first ``overlap`` samples of a window that does not start at 0 are weighted by the
    rising half of ``hann(2 * overlap)``, the last ``overlap`` samples of a window that does
    not end at ``n_samples`` by the falling half. ``render``'s output is not modified.
    """
    spans = plan_windows(n_samples, window, stride)
    overlap = window - stride
    out: torch.Tensor | None = None
    fade: torch.Tensor | None = None
    for index, (start, end) in enumerate(spans, start=1):
        if progress is not None:
            progress(index, len(spans))
        piece = render(start, end)
        if piece.shape != (end - start,):
            raise ValueError(
                f"window {index}: expected {end - start} samples, got shape {tuple(piece.shape)}"
            )
        if out is None:
            out = piece.new_zeros(n_samples)
            if overlap > 0:
                fade = torch.hann_window(2 * overlap, dtype=piece.dtype, device=piece.device)
        head = overlap if (fade is not None and start > 0) else 0
        tail = overlap if (fade is not None and end < n_samples) else 0
        middle_end = (end - start) - tail
        if head:
            out[start : start + head] += piece[:head] * fade[:overlap]
        out[start + head : start + middle_end] += piece[head:middle_end]
        if tail:
            out[end - tail : end] += piece[middle_end:] * fade[overlap:]
    if out is None:
        raise ValueError("cannot enhance an empty session")
    return out


def _padded_length(n: int, params: StftParams) -> int:
    """Length to zero-pad a window to so the STFT keeps every sample (upstream's rule)."""
    rem = (n - params.n_fft) % params.hop_length
    padded = n + (params.hop_length - rem if rem else 0)
    return max(padded, params.n_fft)  # reflect padding needs more than n_fft / 2 samples


@torch.inference_mode()
def enhance_session(
    model: MCxTFGridNet,
    device_audio: torch.Tensor,
    enrolment: torch.Tensor,
    window_size_s: float,
    stride_s: float,
    progress: ProgressFn | None = None,
    *,
    stft_params: StftParams = StftParams(),
    sample_rate: int = SAMPLE_RATE,
) -> torch.Tensor:
    """Enhance a whole session: ``device_audio`` ``[C, N]`` at 16 kHz -> ``[N]`` float32.

    ``enrolment`` is the target speaker's enrolment, ``[1, M]`` or ``[M]`` at 16 kHz. The
    first ``model.n_imics`` channels are used (as upstream). ``progress(i, n)`` is called
    before window ``i`` (1-based) of ``n``. The model must be in eval mode.
    """
    if model.training:
        raise ValueError("call model.eval() before inference (BatchNorm uses running stats)")
    if device_audio.ndim != 2:
        raise ValueError(
            f"device_audio must be [channels, samples], got {tuple(device_audio.shape)}"
        )
    if device_audio.shape[0] < model.n_imics:
        raise ValueError(
            f"model needs {model.n_imics} channels, device audio has {device_audio.shape[0]}"
        )
    if enrolment.ndim == 2 and enrolment.shape[0] == 1:
        enrolment = enrolment[0]
    if enrolment.ndim != 1:
        raise ValueError(f"enrolment must be [1, M] or [M], got {tuple(enrolment.shape)}")
    n_samples = device_audio.shape[-1]
    if n_samples == 0:
        raise ValueError("cannot enhance an empty session")

    param = next(model.parameters())
    audio = device_audio[: model.n_imics].to(device=param.device, dtype=torch.float32)
    enrol = enrolment.to(device=param.device, dtype=torch.float32)

    spk = stft(enrol[None], stft_params)  # [1, F, Ts, 2]
    min_frames = 3**4  # the speaker encoder pools frames by 3 four times
    if spk.shape[2] < min_frames:
        raise ValueError(
            f"enrolment too short: {enrol.numel()} samples gives {spk.shape[2]} STFT frames, "
            f"the speaker encoder needs at least {min_frames}"
        )
    embedding = model.encode_speaker(spk, torch.tensor([spk.shape[2]], device=param.device))

    window, stride = window_samples(window_size_s, stride_s, stft_params, sample_rate)
    render = window_renderer(model, audio, embedding, stft_params)
    return overlap_add(n_samples, window, stride, render, progress)


def window_renderer(
    model: MCxTFGridNet,
    audio: torch.Tensor,
    embedding: torch.Tensor,
    stft_params: StftParams = StftParams(),
) -> Callable[[int, int], torch.Tensor]:
    """``render(start, end)``: the model's estimate for ``audio[:, start:end]`` (1-D).

    The window is zero-padded to whole STFT hops (as upstream) so the STFT keeps every
    sample, enhanced with the precomputed speaker ``embedding``, and trimmed back.
    """

    def render(start: int, end: int) -> torch.Tensor:
        length = end - start
        snippet = torch.nn.functional.pad(
            audio[:, start:end], (0, _padded_length(length, stft_params) - length)
        )
        estimate = model.separate(stft(snippet, stft_params)[None], embedding)  # [1,1,1,F,T]
        return istft(estimate[0, 0, 0], stft_params)[:length]

    return render
