"""The CHiME-9 ECHI baseline network, re-implemented for bounded-memory inference.

``MCxTFGridNet`` reproduces the upstream baseline (``src/shared/CausalMCxTFGridNet.py`` in
CHiME9-ECHI/CHiME9-ECHI as of commit 8925c21, "new baseline", which ships the current
``checkpoints/{aria,ha}_baseline.pt``): an "online TF-GridNet V3" with an enrolment encoder
and FiLM conditioning. Module attribute names and parameter shapes are upstream's, so the
official state_dicts load with ``strict=True``; the arithmetic is the same up to float
rounding. The code is ours and is organised for long windows on a small CPU box (a 60 s
window is ~15000 STFT frames):

* Inside the network the feature map is kept channels-last, ``[B, T, F, C]`` (frames, bins,
  channels), so every 1x1 convolution is a plain matmul and no transposed copies are needed.
* The frame-wise bi-LSTM (along bins) runs over slices of frames; the bin-wise LSTM (along
  frames, unidirectional) runs over slices of time carrying its state, so no full-size gate
  tensor ever exists.
* The causal self-attention over frames is computed block by block with an online softmax
  (query blocks against key blocks, skipping blocks above the diagonal), one head at a time,
  and written back in place. No ``T x T`` tensor and no full-size query/key tensor is
  materialised; upstream builds the full ``[B*H, T, T]`` scores plus a float ``ones(T, T)``
  mask, a masked copy and a softmax copy, and full ``[B*H, T, E*F]`` queries and keys.
* The attention scale is upstream's: ``1 / sqrt(E * F)``, the size of the flattened
  per-frame query (E query channels per head times F bins), not ``1 / sqrt(E)``.

Upstream's public layout is kept: ``forward(spec, spk, spk_lens)`` takes the STFT as
``[B, C, F, T, 2]`` and returns ``[B, 1, n_srcs, F, T]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["MCxTFGridNet", "build_model"]

# Working-set budgets. One "position" is one (sequence, step) of an LSTM; the official
# config needs ~5.5 KB of LSTM temporaries per position, so these keep each slice to
# ~0.2 GB whatever the window length.
_INTRA_POSITIONS = 1 << 15
_INTER_POSITIONS = 1 << 15
# Sequences per call of the bin-axis LSTM: large batches are where cuDNN kernels have had
# size limits; 32768 rows are already far more than a GPU needs to be busy.
_INTRA_MAX_ROWS = 1 << 15
# Attention blocks, in frames. Keys are recomputed per query block (cheap next to the
# block's score matmul), which is what keeps the attention's memory independent of T.
_QUERY_BLOCK = 4096
_KEY_BLOCK = 1024


# --------------------------------------------------------------------------------------------
# Normalisations


class ChannelNorm(nn.Module):
    """Layer norm over channels (upstream ``LayerNormalization``; params ``[1, C, 1, 1]``).

    ``forward`` normalises axis 1 of ``[B, C, H, W]``; :meth:`last_dim` the last axis of a
    channels-last tensor.
    """

    def __init__(self, channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, channels, 1, 1))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise axis 1 of ``[B, C, H, W]`` with upstream's exact formula."""
        if x.ndim != 4:
            raise ValueError(f"ChannelNorm expects a 4-D tensor, got shape {tuple(x.shape)}")
        low_precision = x.dtype in (torch.float16, torch.bfloat16)
        work = x.float() if low_precision else x
        mean = work.mean(dim=1, keepdim=True)
        std = torch.sqrt(work.var(dim=1, unbiased=False, keepdim=True) + self.eps)
        out = work - mean
        out.div_(std).mul_(self.gamma).add_(self.beta)
        return out.to(x.dtype) if low_precision else out

    def last_dim(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise the last axis of a channels-last tensor.

        Uses the fused ``F.layer_norm`` (about twice as fast as mean + var here); it differs
        from upstream's formula only by float rounding.
        """
        return F.layer_norm(x, x.shape[-1:], self.gamma.view(-1), self.beta.view(-1), self.eps)


class HeadNorm(nn.Module):
    """Per-head PReLU, then layer norm over each head's channels (upstream
    ``AllHeadPReLULayerNormalization4DC``; params ``gamma``/``beta`` ``[1, H, E, 1, 1]``).
    """

    def __init__(self, n_head: int, head_channels: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(1, n_head, head_channels, 1, 1))
        self.beta = nn.Parameter(torch.zeros(1, n_head, head_channels, 1, 1))
        self.act = nn.PReLU(num_parameters=n_head, init=0.25)
        self.eps = eps
        self.n_head = n_head
        self.head_channels = head_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, H*E, T, F] -> [B, H, E, T, F]`` (channels-first reference path)."""
        batch, _, n_t, n_f = x.shape
        x = self.act(x.reshape(batch, self.n_head, self.head_channels, n_t, n_f))
        mean = x.mean(dim=2, keepdim=True)
        std = torch.sqrt(x.var(dim=2, unbiased=False, keepdim=True) + self.eps)
        return x.sub_(mean).div_(std).mul_(self.gamma).add_(self.beta)

    def head_last_dim(self, y: torch.Tensor, head: int) -> torch.Tensor:
        """Normalise one head's channels held on the last axis of ``y`` (``y`` is reused).

        The one-slope PReLU is applied in place as a leaky ReLU (same arithmetic), then the
        fused ``F.layer_norm``, which differs from upstream's formula only by rounding.
        """
        F.leaky_relu_(y, float(self.act.weight[head]))
        return F.layer_norm(y, y.shape[-1:], self.gamma[0, head, :, 0, 0], self.beta[0, head, :, 0, 0], self.eps)


# --------------------------------------------------------------------------------------------
# Enrolment (speaker) encoder: a stack of gated-conv U-Nets, then a masked mean.


class GatedConv(nn.Module):
    """Conv whose second half of output channels gates the first (upstream ``GateConv2d``)."""

    def __init__(self, c_in: int, c_out: int, kernel: tuple[int, int], stride: tuple[int, int]):
        super().__init__()
        # The pad is a no-op for the (1, k) kernels used here; kept for index parity.
        self.conv = nn.Sequential(
            nn.ConstantPad2d((0, 0, kernel[0] - 1, 0), value=0.0),
            nn.Conv2d(c_in, 2 * c_out, kernel, stride=stride),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value, gate = self.conv(x).chunk(2, dim=1)
        return value * gate.sigmoid()


class DownUnit(nn.Module):
    """Strided conv halving the bin axis, BN, PReLU (upstream ``Conv2dUnit``)."""

    def __init__(self, kernel: tuple[int, int], channels: int) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(channels, channels, kernel, (1, 2)),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UpUnit(nn.Module):
    """Strided transposed conv doubling the bin axis, BN, PReLU (upstream ``Deconv2dUnit``)."""

    def __init__(self, kernel: tuple[int, int], channels: int, in_factor: int) -> None:
        super().__init__()
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(channels * in_factor, channels, kernel, (1, 2)),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.deconv(x)


class UNetStage(nn.Module):
    """One gated U-Net over ``[B, C, frames, bins]`` ending in a 3x frame pooling.

    Upstream ``EnUnetModule``: gated strided conv in, ``depth`` down units, mirrored up
    units fed with the skips, residual add, then ``AvgPool2d((3, 1))`` over frames.
    """

    def __init__(self, channels: int, in_kernel: tuple[int, int], kernel: tuple[int, int], depth: int) -> None:
        super().__init__()
        self.in_conv = nn.Sequential(
            GatedConv(channels, channels, in_kernel, (1, 2)),
            nn.BatchNorm2d(channels),
            nn.PReLU(channels),
        )
        self.encoder = nn.ModuleList([DownUnit(kernel, channels) for _ in range(depth)])
        self.decoder = nn.ModuleList(
            [UpUnit(kernel, channels, 1)] + [UpUnit(kernel, channels, 2) for _ in range(depth - 1)]
        )
        self.out_pool = nn.AvgPool2d((3, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        entry = self.in_conv(x)
        skips = []
        y = entry
        for down in self.encoder:
            y = down(y)
            skips.append(y)
        y = self.decoder[0](y)
        for level, up in enumerate(self.decoder[1:], start=2):
            y = up(torch.cat([y, skips[-level]], dim=1))
        return self.out_pool(entry + y)


class SpeakerEncoder(nn.Module):
    """Enrolment features -> one speaker embedding per batch item (upstream ``AuxEncoder``)."""

    def __init__(self, emb_dim: int, n_srcs: int) -> None:
        super().__init__()
        self.aux_enc = nn.ModuleList(
            [
                UNetStage(emb_dim, (1, 5), (1, 3), depth=4),
                UNetStage(emb_dim, (1, 3), (1, 3), depth=3),
                UNetStage(emb_dim, (1, 3), (1, 3), depth=2),
                UNetStage(emb_dim, (1, 3), (1, 3), depth=1),
            ]
        )
        self.out_conv = nn.Linear(emb_dim, emb_dim)
        # Speaker-id head, used only in training; kept so checkpoints load strictly.
        self.speaker = nn.Linear(emb_dim, n_srcs)

    def forward(self, feats: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """``feats`` ``[B, C, frames, bins]``, ``lengths`` in frames -> ``[B, C]``."""
        x = feats
        for stage in self.aux_enc:
            x = stage(x)
            lengths = lengths // 3  # each stage pools frames by 3
        pooled = torch.stack([x[i, :, : int(lengths[i])].mean(dim=(1, 2)) for i in range(x.shape[0])], dim=0)
        return self.out_conv(pooled)


class FiLM(nn.Module):
    """Feature-wise affine conditioning ``gamma(e) * x + beta(e)`` on the speaker embedding."""

    def __init__(self, feature_dim: int, cond_dim: int) -> None:
        super().__init__()
        self.gamma_fc = nn.Linear(cond_dim, feature_dim)
        self.beta_fc = nn.Linear(cond_dim, feature_dim)

    def forward(self, cond: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``x`` ``[B, C, T, F]`` (channels-first), out of place."""
        return self.gamma_fc(cond)[..., None, None] * x + self.beta_fc(cond)[..., None, None]

    def channels_last_(self, cond: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """Same arithmetic on ``h`` ``[B, T, F, C]``, overwriting ``h``."""
        scale = self.gamma_fc(cond)[:, None, None, :]
        shift = self.beta_fc(cond)[:, None, None, :]
        return h.mul_(scale).add_(shift)


# --------------------------------------------------------------------------------------------
# The TF-GridNet block


def _padded_length(n: int, kernel: int, hop: int) -> int:
    """Length after upstream's padding: ``kernel - hop`` each side, then up to a whole hop."""
    overlap = kernel - hop
    return math.ceil((n + 2 * overlap - kernel) / hop) * hop + kernel


class GridBlock(nn.Module):
    """One TF-GridNet V3 block: bi-LSTM along bins, causal LSTM and attention along frames.

    Attribute names follow upstream's ``GridNetV3Block`` so state_dict keys match. The
    working layout is channels-last ``[B, T, F, C]``; :meth:`forward` accepts upstream's
    ``[B, C, T, F]`` for convenience, :meth:`forward_channels_last_` is what the network uses.
    """

    def __init__(
        self,
        emb_dim: int,
        emb_ks: int,
        emb_hs: int,
        hidden_channels: int,
        n_head: int = 4,
        qk_output_channel: int = 4,
        activation: str = "prelu",
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        if activation != "prelu":
            raise ValueError(f"only activation='prelu' is supported, got {activation!r}")
        if emb_ks == emb_hs:
            # Upstream's emb_ks == emb_hs branch sizes inter_linear for a bidirectional LSTM
            # while its inter LSTM is unidirectional, so no such model can run.
            raise NotImplementedError("emb_ks == emb_hs is not supported (upstream cannot run it)")
        if emb_dim % n_head:
            raise ValueError(f"emb_dim {emb_dim} must be divisible by attn_n_head {n_head}")
        unfolded = emb_dim * emb_ks

        self.intra_norm = nn.LayerNorm(emb_dim, eps=eps)
        self.intra_rnn = nn.LSTM(unfolded, hidden_channels, 1, batch_first=True, bidirectional=True)
        self.intra_linear = nn.ConvTranspose1d(2 * hidden_channels, emb_dim, emb_ks, stride=emb_hs)

        self.inter_norm = nn.LayerNorm(emb_dim, eps=eps)
        self.inter_rnn = nn.LSTM(unfolded, hidden_channels, 1, batch_first=True)
        self.inter_linear = nn.ConvTranspose1d(hidden_channels, emb_dim, emb_ks, stride=emb_hs)

        self.attn_conv_Q = nn.Conv2d(emb_dim, n_head * qk_output_channel, 1)
        self.attn_norm_Q = HeadNorm(n_head, qk_output_channel, eps=eps)
        self.attn_conv_K = nn.Conv2d(emb_dim, n_head * qk_output_channel, 1)
        self.attn_norm_K = HeadNorm(n_head, qk_output_channel, eps=eps)
        self.attn_conv_V = nn.Conv2d(emb_dim, emb_dim, 1)
        self.attn_norm_V = HeadNorm(n_head, emb_dim // n_head, eps=eps)
        self.attn_concat_proj = nn.Sequential(nn.Conv2d(emb_dim, emb_dim, 1), nn.PReLU(), ChannelNorm(emb_dim, eps=eps))

        self.emb_dim = emb_dim
        self.emb_ks = emb_ks
        self.emb_hs = emb_hs
        self.n_head = n_head
        self.hidden_channels = hidden_channels
        # Tunable working-set sizes (see the module constants).
        self.intra_positions = _INTRA_POSITIONS
        self.inter_positions = _INTER_POSITIONS
        self.query_block = _QUERY_BLOCK
        self.key_block = _KEY_BLOCK
        self.feature_frames = _KEY_BLOCK

    # -- sequence models -------------------------------------------------------------------

    def _sequence(self, seq: torch.Tensor, norm: nn.LayerNorm, rnn: nn.LSTM, proj: nn.ConvTranspose1d) -> torch.Tensor:
        """Norm, unfold (kernel ``emb_ks``), LSTM, transposed conv: ``[N, L, C] -> [N, L, C]``.

        Unfolded features are ordered channel-major (``c * emb_ks + k``), as ``F.unfold``
        orders them upstream and as the LSTM input weights expect.
        """
        n_seq, _, channels = seq.shape
        z = norm(seq).unfold(1, self.emb_ks, self.emb_hs)  # [N, L', C, ks] (view)
        z = z.reshape(n_seq, z.shape[1], channels * self.emb_ks)
        z, _ = rnn(z)
        return proj(z.transpose(1, 2)).transpose(1, 2)

    def _intra_(self, grid: torch.Tensor, n_frames: int, n_bins: int) -> None:
        """Residual bi-LSTM along bins, for every frame of ``grid`` ``[B, T', F', C]``.

        The frames of all batch items are taken as one run of rows (padding frames too:
        they are all zero and come out as upstream's), in slices of ``intra_positions``
        positions and at most ``_INTRA_MAX_ROWS`` sequences per LSTM call.
        """
        batch, frames_pad, bins_pad, channels = grid.shape
        flat = grid.view(batch * frames_pad, bins_pad, channels)
        step = min(_INTRA_MAX_ROWS, max(1, self.intra_positions // bins_pad))
        args = (self.intra_norm, self.intra_rnn, self.intra_linear)
        for r0 in range(0, flat.shape[0], step):
            rows = flat[r0 : r0 + step]
            rows += self._sequence(rows, *args)

    def _inter_into(self, grid: torch.Tensor, out: torch.Tensor) -> None:
        """Residual causal LSTM along frames for the real bins; result cropped into ``out``.

        ``grid`` ``[B, T', F', C]`` (after the intra pass), ``out`` ``[B, T, F, C]``. Runs
        over slices of time, carrying the LSTM state and the last ``emb_ks - 1`` hidden
        vectors (the transposed conv's receptive field) from one slice to the next.
        """
        batch, frames_pad, _, channels = grid.shape
        _, n_frames, n_bins, _ = out.shape
        ks, olp = self.emb_ks, self.emb_ks - self.emb_hs
        rows = batch * n_bins
        real_bins = slice(olp, olp + n_bins)

        if self.emb_hs != 1:  # general hop: one pass over the whole sequence
            seq = grid[:, :, real_bins].transpose(1, 2).reshape(rows, frames_pad, channels)
            seq = seq + self._sequence(seq, self.inter_norm, self.inter_rnn, self.inter_linear)
            seq = seq.view(batch, n_bins, frames_pad, channels)[:, :, olp : olp + n_frames]
            out.copy_(seq.transpose(1, 2))
            return

        n_steps = frames_pad - ks + 1  # LSTM steps; output frame t uses steps t-ks+1 .. t
        step = max(1, self.inter_positions // rows)
        weight, bias = self.inter_linear.weight, self.inter_linear.bias
        state: tuple[torch.Tensor, torch.Tensor] | None = None
        tail = grid.new_zeros(rows, ks - 1, self.hidden_channels)  # steps before 0: no input
        for p0 in range(0, n_steps, step):
            p1 = min(p0 + step, n_steps)
            n = p1 - p0
            seq = grid[:, p0 : p1 + ks - 1, real_bins].transpose(1, 2)
            seq = seq.reshape(rows, n + ks - 1, channels)
            z = self.inter_norm(seq).unfold(1, ks, 1).reshape(rows, n, channels * ks)
            hidden, state = self.inter_rnn(z, state)
            hidden = torch.cat([tail, hidden], dim=1)  # steps p0-ks+1 .. p1-1
            tail = hidden[:, -(ks - 1) :]
            # Frames p0 .. p1-1 are complete: every step that feeds them is in `hidden`.
            y = F.conv_transpose1d(hidden.transpose(1, 2), weight, bias)[:, :, ks - 1 : ks - 1 + n]
            lo, hi = max(p0, olp), min(p1, olp + n_frames)
            if lo >= hi:
                continue
            y = y[:, :, lo - p0 : hi - p0].reshape(batch, n_bins, channels, hi - lo)
            out[:, lo - olp : hi - olp] = y.permute(0, 3, 1, 2) + grid[:, lo:hi, real_bins]

    # -- attention -------------------------------------------------------------------------

    def _head_features(self, h: torch.Tensor, conv: nn.Conv2d, norm: HeadNorm, head: int) -> torch.Tensor:
        """One head's normalised projection of ``h`` ``[B, n, F, C]`` -> ``[B, n, F*E]``.

        Features are ordered (bin, channel); upstream flattens (channel, bin). The dot
        products and the per-frame values are the same, only the summation order differs.
        Long blocks are projected a slice of frames at a time, so the projection's
        temporaries stay small next to the result.
        """
        batch, n, n_bins, _ = h.shape
        e = norm.head_channels
        weight = conv.weight.view(conv.out_channels, -1)[head * e : (head + 1) * e]
        bias = conv.bias[head * e : (head + 1) * e]
        step = max(1, self.feature_frames)
        if n <= step:
            return norm.head_last_dim(F.linear(h, weight, bias), head).view(batch, n, -1)
        out = h.new_empty(batch, n, n_bins * e)
        for s0 in range(0, n, step):
            s1 = min(s0 + step, n)
            y = norm.head_last_dim(F.linear(h[:, s0:s1], weight, bias), head)
            out[:, s0:s1] = y.view(batch, s1 - s0, -1)
        return out

    def _attention_(self, h: torch.Tensor) -> None:
        """Residual causal multi-head attention over frames, in place on ``h`` ``[B, T, F, C]``.

        Query blocks are processed from the last to the first so that a block's output can
        overwrite ``h``: later query blocks (earlier frames) never read those frames as keys.
        """
        batch, n_frames, n_bins, channels = h.shape
        n_head = self.n_head
        e_qk = self.attn_norm_Q.head_channels
        e_v = self.attn_norm_V.head_channels
        scale_div = (e_qk * n_bins) ** 0.5  # upstream: sqrt of the flattened query size
        proj_conv, proj_act, proj_norm = self.attn_concat_proj
        proj_weight = proj_conv.weight.view(channels, channels)
        q_block, k_block = max(1, self.query_block), max(1, self.key_block)
        frame_idx = torch.arange(n_frames, device=h.device)

        for q0 in reversed(range(0, n_frames, q_block)):
            q1 = min(q0 + q_block, n_frames)
            nq = q1 - q0
            mixed = h.new_empty(batch, nq, n_bins, n_head, e_v)
            for head in range(n_head):
                q = self._head_features(h[:, q0:q1], self.attn_conv_Q, self.attn_norm_Q, head)
                run_max = q.new_full((batch, nq, 1), float("-inf"))
                run_sum = q.new_zeros(batch, nq, 1)
                acc = q.new_zeros(batch, nq, n_bins * e_v)
                for k0 in range(0, q1, k_block):
                    k1 = min(k0 + k_block, q1)
                    r0 = max(0, k0 - q0)  # query rows before k0 see none of these keys
                    keys = h[:, k0:k1]
                    k = self._head_features(keys, self.attn_conv_K, self.attn_norm_K, head)
                    v = self._head_features(keys, self.attn_conv_V, self.attn_norm_V, head)
                    scores = torch.bmm(q[:, r0:], k.transpose(1, 2)).div_(scale_div)
                    if k1 - 1 > q0 + r0:  # block reaches past some queries: causal mask
                        future = frame_idx[k0:k1][None, :] > frame_idx[q0 + r0 : q1][:, None]
                        scores.masked_fill_(future, float("-inf"))
                    old_max = run_max[:, r0:]
                    new_max = torch.maximum(old_max, scores.amax(dim=-1, keepdim=True))
                    probs = scores.sub_(new_max).exp_()
                    rescale = torch.exp(old_max - new_max)
                    run_sum[:, r0:].mul_(rescale).add_(probs.sum(dim=-1, keepdim=True))
                    acc[:, r0:].mul_(rescale).baddbmm_(probs, v)
                    old_max.copy_(new_max)
                mixed[:, :, :, head] = acc.div_(run_sum).view(batch, nq, n_bins, e_v)
            # Channel order is (head, head channel), as upstream concatenates heads.
            y = F.linear(mixed.view(batch, nq, n_bins, channels), proj_weight, proj_conv.bias)
            y = proj_norm.last_dim(F.leaky_relu_(y, float(proj_act.weight)))
            h[:, q0:q1] += y

    # -- forward ---------------------------------------------------------------------------

    def forward_channels_last_(self, h: torch.Tensor) -> torch.Tensor:
        """``h`` ``[B, T, F, C]`` -> same shape, computed in place (``h`` is overwritten)."""
        _, n_frames, n_bins, _ = h.shape
        olp = self.emb_ks - self.emb_hs
        frames_pad = _padded_length(n_frames, self.emb_ks, self.emb_hs)
        bins_pad = _padded_length(n_bins, self.emb_ks, self.emb_hs)
        grid = F.pad(h, (0, 0, olp, bins_pad - n_bins - olp, olp, frames_pad - n_frames - olp))
        self._intra_(grid, n_frames, n_bins)
        self._inter_into(grid, h)
        del grid
        self._attention_(h)
        return h


# --------------------------------------------------------------------------------------------
# The network


class MCxTFGridNet(nn.Module):
    """Multichannel speaker-conditioned TF-GridNet (the ECHI baseline). Inference only.

    ``forward(spec, spk, spk_lens)`` has upstream's signature: ``spec`` ``[B, C, F, T, 2]``
    (real/imag of the device STFT), ``spk`` ``[B, F, Ts, 2]`` (enrolment STFT), ``spk_lens``
    ``[B]`` enrolment frames; it returns the complex estimate ``[B, 1, n_srcs, F, T]``. For
    windowed inference call :meth:`encode_speaker` once and :meth:`separate` per window: the
    enrolment path does not depend on the window, so this equals ``forward`` exactly.
    """

    def __init__(
        self,
        n_srcs: int = 2,
        n_imics: int = 1,
        n_layers: int = 6,
        lstm_hidden_units: int = 192,
        attn_n_head: int = 4,
        attn_qk_output_channel: int = 4,
        emb_dim: int = 48,
        emb_ks: int = 4,
        emb_hs: int = 1,
        activation: str = "prelu",
        eps: float = 1.0e-5,
    ) -> None:
        super().__init__()
        self.n_srcs = n_srcs
        self.n_imics = n_imics
        self.n_layers = n_layers

        kernel, padding = (3, 3), (1, 1)
        self.conv = nn.Sequential(
            nn.Conv2d(2 * n_imics, emb_dim, kernel, padding=padding), ChannelNorm(emb_dim, eps=eps)
        )
        self.aux_enc = SpeakerEncoder(emb_dim, n_srcs)
        self.fusions = nn.ModuleList([FiLM(emb_dim, emb_dim) for _ in range(n_layers)])
        self.gridnets = nn.ModuleList(
            [
                GridBlock(
                    emb_dim,
                    emb_ks,
                    emb_hs,
                    lstm_hidden_units,
                    n_head=attn_n_head,
                    qk_output_channel=attn_qk_output_channel,
                    activation=activation,
                    eps=eps,
                )
                for _ in range(n_layers)
            ]
        )
        self.deconv = nn.ConvTranspose2d(emb_dim, n_srcs * 2, kernel, padding=padding)

    @torch.no_grad()
    def encode_speaker(self, spk: torch.Tensor, spk_lens: torch.Tensor) -> torch.Tensor:
        """Enrolment STFT ``[B, F, Ts, 2]`` -> speaker embedding ``[B, emb_dim]``."""
        if spk.ndim != 4 or spk.shape[-1] != 2:
            raise ValueError(f"spk must be [B, F, T, 2], got {tuple(spk.shape)}")
        feats = spk.permute(0, 3, 2, 1)  # [B, 2, Ts, F]
        # The shared input conv expects 2*C channels: tile (re, im) once per microphone.
        feats = feats.repeat(1, self.n_imics, 1, 1)
        return self.aux_enc(self.conv(feats), spk_lens)

    @torch.no_grad()
    def separate(self, spec: torch.Tensor, embedding: torch.Tensor) -> torch.Tensor:
        """Device STFT ``[B, C, F, T, 2]`` + embedding ``[B, emb_dim]`` -> ``[B, 1, S, F, T]``."""
        if spec.ndim != 5 or spec.shape[-1] != 2:
            raise ValueError(f"spec must be [B, C, F, T, 2], got {tuple(spec.shape)}")
        batch, mics, n_bins, n_frames, _ = spec.shape
        if mics != self.n_imics:
            raise ValueError(f"model expects {self.n_imics} channels, got {mics}")
        # Channel order (mic, re/im), frames before bins, as upstream feeds its input conv.
        feats = spec.permute(0, 1, 4, 3, 2).reshape(batch, 2 * mics, n_frames, n_bins)
        in_conv, in_norm = self.conv
        # Channels-last conv output: its [B, T, F, C] view is contiguous, no copy needed.
        h = in_conv(feats.contiguous(memory_format=torch.channels_last)).permute(0, 2, 3, 1)
        h = in_norm.last_dim(h)
        for film, block in zip(self.fusions, self.gridnets):
            h = block.forward_channels_last_(film.channels_last_(embedding, h))
        out = self.deconv(h.permute(0, 3, 1, 2))  # [B, 2*S, T, F]
        out = out.reshape(batch, self.n_srcs, 2, n_frames, n_bins)
        return torch.complex(out[:, :, 0], out[:, :, 1]).unsqueeze(1).transpose(-1, -2)

    def forward(self, spec: torch.Tensor, spk: torch.Tensor, spk_lens: torch.Tensor) -> torch.Tensor:
        return self.separate(spec, self.encode_speaker(spk, spk_lens))


def build_model(params: Mapping[str, Any]) -> MCxTFGridNet:
    """The network described by the ``params`` section of an official config yaml."""
    return MCxTFGridNet(**dict(params))
