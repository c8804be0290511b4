"""PESQ (wideband, P.862.2) and classic STOI, as versa calls them."""

from __future__ import annotations

import logging

import numpy as np

log = logging.getLogger(__name__)


def pesq_raw(est: np.ndarray, ref: np.ndarray, fs: int) -> float:
    """Wideband PESQ MOS-LQO at 16 kHz (raises where the pesq package raises)."""
    from pesq import pesq

    if fs != 16000:
        raise ValueError(f"wideband PESQ needs 16 kHz audio, got {fs} Hz")
    return float(pesq(16000, ref, est, "wb"))


def pesq_or_zero(est: np.ndarray, ref: np.ndarray, fs: int) -> float:
    """The ``pesq`` key: an error (e.g. no utterance found) counts as 0.0, as upstream."""
    try:
        return pesq_raw(est, ref, fs)
    except Exception as err:  # noqa: BLE001 - upstream counts any PESQ error as 0.0
        log.warning("PESQ failed (%s); counted as 0.0 as the official evaluation does", err)
        return 0.0


def stoi(est: np.ndarray, ref: np.ndarray, fs: int) -> float:
    """Classic (not extended) STOI; pystoi gives 1e-5 when too few frames remain."""
    from pystoi import stoi as pystoi

    n = min(len(est), len(ref))
    return float(pystoi(ref[:n], est[:n], fs, extended=False))
