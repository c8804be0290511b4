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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from enhancement.baseline.batching import Planner, fixed_planner, working_sizes
from enhancement.baseline.model import MCxTFGridNet

__all__ = [
    "SAMPLE_RATE",
    "StftParams",
    "add_window",
    "enhance_partners",
    "enhance_session",
    "istft",
    "overlap_add",
    "plan_windows",
    "stft",
    "window_renderer",
    "window_samples",
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
    def from_config(cls, stft_cfg: Mapping[str, Any]) -> StftParams:
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
    window_size_s: float,
    stride_s: float,
    params: StftParams = StftParams(),
    sample_rate: int = SAMPLE_RATE,
) -> tuple[int, int]:
    """Window and stride in samples; the window is rounded up to whole STFT hops, as upstream."""
    window = round(window_size_s * sample_rate)
    stride = round(stride_s * sample_rate)
    rem = (window - params.n_fft) % params.hop_length
    if rem:
        window += params.hop_length - rem
    if stride <= 0 or window <= 0:
        raise ValueError(f"window ({window_size_s} s) and stride ({stride_s} s) must be positive")
    if stride > window:
        raise ValueError(f"stride ({stride_s} s) must not exceed the window ({window_size_s} s)")
    if 2 * stride < window:
        # With more than two windows over a sample the half-Hann fades no longer sum to one.
        raise ValueError(f"stride ({stride_s} s) must be at least half the window ({window_size_s} s)")
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
    out: torch.Tensor | None = None
    for index, (start, end) in enumerate(spans, start=1):
        if progress is not None:
            progress(index, len(spans))
        piece = render(start, end)
        if piece.shape != (end - start,):
            raise ValueError(f"window {index}: expected {end - start} samples, got shape {tuple(piece.shape)}")
        if out is None:
            out = piece.new_zeros(n_samples)
        add_window(out, piece, start, window - stride)
    if out is None:
        raise ValueError("cannot enhance an empty session")
    return out


def add_window(out: torch.Tensor, piece: torch.Tensor, start: int, overlap: int) -> None:
    """Add one window's ``piece`` into ``out`` at ``start`` with :func:`overlap_add`'s fades.

    Each sample gets at most two contributions, so the order windows are added in does not
    change the result (float addition of two terms commutes): batched and one-by-one
    rendering give the same bits.
    """
    end = start + piece.shape[-1]
    n_samples = out.shape[-1]
    fade = torch.hann_window(2 * overlap, dtype=piece.dtype, device=piece.device) if overlap > 0 else None
    head = overlap if (fade is not None and start > 0) else 0
    tail = overlap if (fade is not None and end < n_samples) else 0
    middle_end = (end - start) - tail
    if head:
        out[start : start + head] += piece[:head] * fade[:overlap]
    out[start + head : start + middle_end] += piece[head:middle_end]
    if tail:
        out[end - tail : end] += piece[middle_end:] * fade[overlap:]


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
    before window ``i`` (1-based) of ``n``. The model must be in eval mode. One window at a
    time; :func:`enhance_partners` is the batched form.
    """
    return enhance_partners(
        model,
        device_audio,
        [enrolment],
        window_size_s,
        stride_s,
        progress,
        stft_params=stft_params,
        sample_rate=sample_rate,
    )[0]


def _check_inputs(
    model: MCxTFGridNet, device_audio: torch.Tensor, enrolments: Sequence[torch.Tensor]
) -> list[torch.Tensor]:
    """Raise on unusable inputs; return the enrolments as 1-D tensors."""
    if model.training:
        raise ValueError("call model.eval() before inference (BatchNorm uses running stats)")
    if device_audio.ndim != 2:
        raise ValueError(f"device_audio must be [channels, samples], got {tuple(device_audio.shape)}")
    if device_audio.shape[0] < model.n_imics:
        raise ValueError(f"model needs {model.n_imics} channels, device audio has {device_audio.shape[0]}")
    if device_audio.shape[-1] == 0:
        raise ValueError("cannot enhance an empty session")
    if not enrolments:
        raise ValueError("no enrolments given")
    flat = []
    for enrolment in enrolments:
        if enrolment.ndim == 2 and enrolment.shape[0] == 1:
            enrolment = enrolment[0]
        if enrolment.ndim != 1:
            raise ValueError(f"enrolment must be [1, M] or [M], got {tuple(enrolment.shape)}")
        flat.append(enrolment)
    return flat


def _embedding(model: MCxTFGridNet, enrolment: torch.Tensor, stft_params: StftParams) -> torch.Tensor:
    """The speaker embedding ``[1, emb_dim]`` of one 1-D enrolment (on the model's device)."""
    param = next(model.parameters())
    enrol = enrolment.to(device=param.device, dtype=torch.float32)
    spk = stft(enrol[None], stft_params)  # [1, F, Ts, 2]
    min_frames = 3**4  # the speaker encoder pools frames by 3 four times
    if spk.shape[2] < min_frames:
        raise ValueError(
            f"enrolment too short: {enrol.numel()} samples gives {spk.shape[2]} STFT frames, "
            f"the speaker encoder needs at least {min_frames}"
        )
    return model.encode_speaker(spk, torch.tensor([spk.shape[2]], device=param.device))


@torch.inference_mode()
def enhance_partners(
    model: MCxTFGridNet,
    device_audio: torch.Tensor,
    enrolments: Sequence[torch.Tensor],
    window_size_s: float,
    stride_s: float,
    progress: ProgressFn | None = None,
    *,
    stft_params: StftParams = StftParams(),
    sample_rate: int = SAMPLE_RATE,
    planner: Planner | None = None,
) -> list[torch.Tensor]:
    """Enhance a whole session for several partners: one ``[N]`` float32 CPU tensor each.

    The windows of all partners (``len(enrolments)`` x windows) are run through the model
    in batches of equal-length windows; ``planner(frames, windows)`` says how many per call
    and with what working sizes (default: one at a time, as :func:`enhance_session`).
    Batch items are independent in the network (per-item norms, LSTMs and attention), so
    a batched result equals the one-by-one result up to float rounding. ``progress(i, n)``
    is called before each batch, ``i`` being the number of windows done once it ends.
    The session stays on the CPU; only each batch's windows move to the model's device.
    """
    enrolments = _check_inputs(model, device_audio, enrolments)
    planner = planner or fixed_planner(1)
    param = next(model.parameters())
    audio = device_audio[: model.n_imics]
    n_samples = audio.shape[-1]
    embeddings = torch.cat([_embedding(model, e, stft_params) for e in enrolments])

    window, stride = window_samples(window_size_s, stride_s, stft_params, sample_rate)
    spans = plan_windows(n_samples, window, stride)
    outs = [torch.zeros(n_samples, dtype=torch.float32) for _ in enrolments]
    # Items (window, partner) grouped by window length: only the last window differs.
    groups: dict[int, list[tuple[int, int]]] = {}
    for index, (start, end) in enumerate(spans):
        for partner in range(len(enrolments)):
            groups.setdefault(end - start, []).append((index, partner))
    total, done = len(spans) * len(enrolments), 0
    for length, items in groups.items():
        padded = _padded_length(length, stft_params)
        n_frames = padded // stft_params.hop_length + 1
        plan = planner(n_frames, len(items))
        with working_sizes(model, plan):
            for b0 in range(0, len(items), plan.batch):
                batch = items[b0 : b0 + plan.batch]
                done += len(batch)
                if progress is not None:
                    progress(done, total)
                snippets = torch.stack(
                    [
                        torch.nn.functional.pad(audio[:, spans[i][0] : spans[i][1]], (0, padded - length))
                        for i, _ in batch
                    ]
                ).to(device=param.device, dtype=torch.float32)
                spec = stft(snippets, stft_params)  # [B, C, F, T, 2]
                del snippets
                which = torch.tensor([p for _, p in batch], device=embeddings.device)
                estimate = model.separate(spec, embeddings[which])  # [B, 1, S, F, T]
                del spec
                pieces = istft(estimate[:, 0, 0], stft_params)[:, :length]
                pieces = pieces.to(device="cpu", dtype=torch.float32)
                del estimate
                for (i, partner), piece in zip(batch, pieces):
                    add_window(outs[partner], piece, spans[i][0], window - stride)
    return outs


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
        snippet = torch.nn.functional.pad(audio[:, start:end], (0, _padded_length(length, stft_params) - length))
        estimate = model.separate(stft(snippet, stft_params)[None], embedding)  # [1,1,1,F,T]
        return istft(estimate[0, 0, 0], stft_params)[:length]

    return render
