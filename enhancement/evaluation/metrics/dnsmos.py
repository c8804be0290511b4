"""DNSMOS (P.835 overall and P.808) through speechmos, its ONNX models ship in the wheel.

As versa's ``pseudo_mos``: the estimate is peak-normalised, then scored; the
onnxruntime sessions are made once per process (speechmos keeps one model).
"""

from __future__ import annotations

import numpy as np

KEYS = ("dns_overall", "dns_p808")


def _session(path: str, threads: int):
    """An onnxruntime CPU session on ``threads`` threads without spin-waiting."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


class Dnsmos:
    """speechmos's DNSMOS scorer with its two onnxruntime sessions made once, for a job.

    The sessions run on one thread without spin-waiting (a job is one core; the
    default pool burns CPU time waiting), the scoring itself is speechmos's own.
    """

    def __init__(self, threads: int = 1) -> None:
        import os

        from speechmos import dnsmos

        here = os.path.dirname(os.path.abspath(dnsmos.__file__))
        primary = os.path.join(here, "dnsmos_models", "sig_bak_ovr.onnx")
        p808 = os.path.join(here, "dnsmos_models", "model_v8.onnx")
        model = dnsmos.DNSMOS.__new__(dnsmos.DNSMOS)
        model.primary_model_path = primary
        model.onnx_sess = _session(primary, threads)
        model.p808_onnx_sess = _session(p808, threads)
        self._model = model

    def __call__(self, est: np.ndarray, fs: int) -> dict[str, float]:
        if fs != 16000:
            raise ValueError(f"DNSMOS needs 16 kHz audio, got {fs} Hz")
        peak = np.max(np.abs(est))
        score = self._model(est / peak, fs, False)
        return {"dns_overall": float(score["ovrl_mos"]), "dns_p808": float(score["p808_mos"])}
