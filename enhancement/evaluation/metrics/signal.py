"""BSS-eval SDR/SIR/SAR, SI-SNR and CI-SDR, as the official evaluation computes them.

versa's ``signal_metric``: mir_eval's ``bss_eval_sources`` (one source, no
permutation, so SIR is infinite; computed here once instead of twice), fast-bss-eval's SI-SDR in float32 without
mean removal, and CI-SDR with a 512-tap filter in float32. The ``ci-sdr``
package cannot be installed by current pip (its PyPI metadata names a git URL),
so CI-SDR is written here from its definition: the reference filtered by the
least-squares 512-tap FIR that best matches the estimate, against the error.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import toeplitz

from enhancement.evaluation.metric_names import SIGNAL_KEYS as KEYS  # noqa: F401 (the family's output keys)


def si_snr(est: np.ndarray, ref: np.ndarray) -> float:
    """Scale-invariant SNR (dB) in float32, no mean removal (fast-bss-eval)."""
    import fast_bss_eval
    import torch

    loss = fast_bss_eval.si_sdr_loss(
        est=torch.from_numpy(est).float(),
        ref=torch.from_numpy(ref).float(),
        zero_mean=None,
        clamp_db=None,
        pairwise=False,
    )
    return -float(loss)


def ci_sdr(est: np.ndarray, ref: np.ndarray, filter_length: int = 512) -> float:
    """Convolutive-transfer-function-invariant SDR (dB), float32 like the ci-sdr package.

    The Wiener-Hopf system is built from FFT auto/cross-correlations of the
    reference and solved with ``torch.linalg.solve``; the filtered reference is
    compared with the estimate zero-padded by ``filter_length - 1``.
    """
    import torch

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
    num = torch.sum(filtered**2, dim=-1)
    den = torch.sum((filtered - padded) ** 2, dim=-1)
    return float((10 * torch.log10(num / den))[0])


def bss_eval_one_source(est: np.ndarray, ref: np.ndarray, flen: int = 512) -> tuple[float, float, float]:
    """SDR, SIR, SAR of mir_eval's ``bss_eval_sources`` for one source, in float64.

    With one reference the interference part of BSS-eval is exactly zero (SIR is
    infinite, SAR equals SDR), and both least-squares projections mir_eval makes
    are the same one; we make it once, with real FFTs. Like mir_eval, a silent
    reference or estimate is a ValueError.
    """
    if not np.any(ref):
        raise ValueError("the reference source is silent (all zeros)")
    if not np.any(est):
        raise ValueError("the estimated source is silent (all zeros)")
    n = len(ref)
    nfft = int(2 ** np.ceil(np.log2(n + flen - 1.0)))
    s = np.fft.rfft(ref, nfft)
    auto = np.fft.irfft(s * np.conj(s), nfft)
    cross = np.fft.irfft(np.conj(s) * np.fft.rfft(est, nfft), nfft)
    gram = toeplitz(auto[:flen])
    try:
        coef = np.linalg.solve(gram, cross[:flen])
    except np.linalg.LinAlgError:
        coef = np.linalg.lstsq(gram, cross[:flen], rcond=None)[0]
    s_filt = np.fft.irfft(np.fft.rfft(coef, nfft) * s, nfft)[: n + flen - 1]
    e_artif = -s_filt
    e_artif[:n] += est
    num = np.sum(s_filt**2)
    den = np.sum(e_artif**2)
    sdr = np.inf if den == 0 else float(10 * np.log10(num / den))
    return sdr, float("inf"), sdr


def signal_metric(est: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    """All five keys; ValueError on a silent estimate or reference (as mir_eval)."""
    sdr, sir, sar = bss_eval_one_source(est, ref)
    e = est[np.newaxis, :]
    r = ref[np.newaxis, :]
    return {
        "sdr": sdr,
        "sir": sir,
        "sar": sar,
        "si_snr": si_snr(e, r),
        "ci_sdr": ci_sdr(e, r),
    }
