"""BSS-eval SDR/SIR/SAR, SI-SNR and CI-SDR, as the official evaluation computes them.

versa's ``signal_metric``: mir_eval's ``bss_eval_sources`` (one source, no
permutation, so SIR is infinite), fast-bss-eval's SI-SDR in float32 without
mean removal, and CI-SDR with a 512-tap filter in float32. The ``ci-sdr``
package cannot be installed by current pip (its PyPI metadata names a git URL),
so CI-SDR is written here from its definition: the reference filtered by the
least-squares 512-tap FIR that best matches the estimate, against the error.
"""

from __future__ import annotations

import numpy as np
import torch

KEYS = ("sdr", "sir", "sar", "si_snr", "ci_sdr")


def si_snr(est: np.ndarray, ref: np.ndarray) -> float:
    """Scale-invariant SNR (dB) in float32, no mean removal (fast-bss-eval)."""
    import fast_bss_eval

    loss = fast_bss_eval.si_sdr_loss(
        est=torch.from_numpy(est).float(), ref=torch.from_numpy(ref).float(),
        zero_mean=None, clamp_db=None, pairwise=False)
    return -float(loss)


def ci_sdr(est: np.ndarray, ref: np.ndarray, filter_length: int = 512) -> float:
    """Convolutive-transfer-function-invariant SDR (dB), float32 like the ci-sdr package.

    The Wiener-Hopf system is built from FFT auto/cross-correlations of the
    reference and solved with ``torch.linalg.solve``; the filtered reference is
    compared with the estimate zero-padded by ``filter_length - 1``.
    """
    x = torch.from_numpy(np.atleast_2d(ref)).float()
    d = torch.from_numpy(np.atleast_2d(est)).float()
    n = x.shape[-1]
    nfft = int(2 ** np.ceil(np.log2(n + d.shape[-1] - 1.0)))
    xf = torch.fft.rfft(x, nfft)
    df = torch.fft.rfft(d, nfft)
    auto = torch.fft.irfft(xf.conj() * xf, nfft)[..., :filter_length]
    idx = (torch.arange(filter_length)[:, None] - torch.arange(filter_length)[None, :]).abs()
    big_r = auto[..., idx]
    p = torch.fft.irfft(xf.conj() * df, nfft)[..., :filter_length]
    w = torch.linalg.solve(big_r, p[..., None]).squeeze(-1)
    filtered = torch.fft.irfft(xf * torch.fft.rfft(w, nfft), nfft)[..., : n + filter_length - 1]
    padded = torch.nn.functional.pad(d, [0, filter_length - 1])
    num = torch.sum(filtered ** 2, dim=-1)
    den = torch.sum((filtered - padded) ** 2, dim=-1)
    return float((10 * torch.log10(num / den))[0])


def signal_metric(est: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """All five keys; raises ValueError (mir_eval) on a silent estimate or reference."""
    from mir_eval.separation import bss_eval_sources

    e = est[np.newaxis, :]
    r = ref[np.newaxis, :]
    sdr, sir, sar, _ = bss_eval_sources(r, e, compute_permutation=False)
    return {
        "sdr": float(sdr[0]),
        "sir": float(sir[0]),
        "sar": float(sar[0]),
        "si_snr": si_snr(e, r),
        "ci_sdr": ci_sdr(e, r),
    }
