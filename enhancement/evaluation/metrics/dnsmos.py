"""DNSMOS (P.835 overall and P.808) through speechmos, its ONNX models ship in the wheel.

As versa's ``pseudo_mos``: the estimate is peak-normalised, then scored; the
onnxruntime sessions are made once per process (speechmos keeps one model).
"""

from __future__ import annotations

import numpy as np

KEYS = ("dns_overall", "dns_p808")


class Dnsmos:
    """Holds speechmos's DNSMOS model (two onnxruntime sessions) for a job."""

    def __init__(self) -> None:
        import os

        from speechmos import dnsmos

        here = os.path.dirname(os.path.abspath(dnsmos.__file__))
        primary = os.path.join(here, "dnsmos_models", "sig_bak_ovr.onnx")
        p808 = os.path.join(here, "dnsmos_models", "model_v8.onnx")
        if dnsmos.dnsmos is None or dnsmos.dnsmos.primary_model_path != primary:
            dnsmos.dnsmos = dnsmos.DNSMOS(primary, p808)
        self._model = dnsmos.dnsmos

    def __call__(self, est: np.ndarray, fs: int) -> dict[str, float]:
        if fs != 16000:
            raise ValueError(f"DNSMOS needs 16 kHz audio, got {fs} Hz")
        peak = np.max(np.abs(est))
        score = self._model(est / peak, fs, False)
        return {"dns_overall": float(score["ovrl_mos"]), "dns_p808": float(score["p808_mos"])}
