"""Metric sets of the official ECHI evaluation and the per-job scorer that computes them.

A *family* is one entry of upstream's ``metrics.yaml`` (``signal_metric``,
``pysepm``, ``pesq``, ``stoi``, ``dnsmos``); its keys come out in upstream's
order. ``full`` is every family computable offline, ``quick`` is upstream's
``metrics_quick.yaml``. Failure handling follows versa: a ValueError in
``signal_metric`` only drops its keys, a PESQ error counts as 0.0, any other
error fails the whole segment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from threadpoolctl import ThreadpoolController

from enhancement.evaluation.metric_names import (  # noqa: F401 (re-exported: the scorer's names)
    FAMILY_KEYS,
    FAMILY_ORDER,
    METRIC_SETS,
    NOT_COMPUTED,
    SEPM_KEYS,
    resolve_metrics,
)

from . import perceptual, sepm, signal
from .dnsmos import Dnsmos


class SegmentMetricError(RuntimeError):
    """A metric raised on a segment: the segment leaves every statistic."""

    def __init__(self, family: str, error: BaseException) -> None:
        super().__init__(f"{family}: {type(error).__name__}: {error}")
        self.family = family


def metric_keys(families: Iterable[str]) -> list[str]:
    """Output keys of the families, in upstream's row order."""
    return [k for f in families for k in FAMILY_KEYS[f]]


def minimum_length_s(families: Iterable[str]) -> float:
    """versa's length check: 0.3 s with STOI, 0.25 s with PESQ, else none."""
    fams = set(families)
    if "stoi" in fams:
        return 0.3
    if "pesq" in fams:
        return 0.25
    return 0.0


@contextlib.contextmanager
def single_thread(torch_too: bool = True, controller: ThreadpoolController | None = None) -> Iterator[None]:
    """BLAS, and torch where a metric uses it, on one thread for the duration.

    The official numbers were made single-threaded: CI-SDR's float32 sums change
    in the last bits with torch's thread count (up to 1.2e-5 dB on the fixture,
    over the tolerance), and a scoring job is meant to use one core. Without a
    torch metric, torch is not imported (2.3 s of a scoring job in one profile).
    ``controller``: the thread pools to limit, found once (finding them scans
    every loaded library: ~15 ms, as much as some metrics); by default found now.
    """
    with contextlib.ExitStack() as stack:
        if torch_too:
            import torch  # heavy; only signal_metric needs it
        stack.enter_context((controller or ThreadpoolController()).limit(limits=1))
        if torch_too:
            stack.callback(torch.set_num_threads, torch.get_num_threads())
            torch.set_num_threads(1)
        yield


class SegmentScorer:
    """Scores segment pairs with a metric set; expensive state is built once per job."""

    def __init__(self, metrics: str | Sequence[str] = "full", fs: int = 16000) -> None:
        self.families = resolve_metrics(metrics)
        self.keys = metric_keys(self.families)
        self.fs = fs
        self._dnsmos = Dnsmos() if "dnsmos" in self.families else None
        if "pysepm" in self.families:
            sepm._ncm_design(fs)
        self._torch = "signal_metric" in self.families
        if self._torch:
            import torch  # noqa: F401 (loaded before its thread pool is looked for)
        self._threads = ThreadpoolController()

    def score(self, est: np.ndarray, ref: np.ndarray) -> dict[str, float]:
        """Every key of the set for one segment; SegmentMetricError if one fails."""
        with single_thread(torch_too=self._torch, controller=self._threads):
            return self._score(est, ref)

    def _score(self, est: np.ndarray, ref: np.ndarray) -> dict[str, float]:
        row: dict[str, float] = {}
        pesq_value: float | None = None
        for family in self.families:
            try:
                if family == "signal_metric":
                    try:
                        row.update(signal.signal_metric(est, ref))
                    except ValueError:
                        continue  # versa: keys absent, the segment stays
                elif family == "pysepm":
                    pesq_value = perceptual.pesq_raw(est, ref, self.fs)
                    row.update(self._sepm(est, ref, pesq_value))
                elif family == "pesq":
                    row["pesq"] = pesq_value if pesq_value is not None else perceptual.pesq_or_zero(est, ref, self.fs)
                elif family == "stoi":
                    row["stoi"] = perceptual.stoi(est, ref, self.fs)
                elif family == "dnsmos":
                    assert self._dnsmos is not None
                    row.update(self._dnsmos(est, self.fs))
            except SegmentMetricError:
                raise
            except Exception as err:
                raise SegmentMetricError(family, err) from err
        return row

    def _sepm(self, est: np.ndarray, ref: np.ndarray, pesq_value: float) -> dict[str, float]:
        fs = self.fs
        spectra = sepm.eps_spectra(ref, est, fs)  # shared by fwSNRseg, WSS and the composites
        c_sig, c_bak, c_ovl = sepm.composite(ref, est, fs, pesq_value, spectra)
        high, mid, low = sepm.csii(ref, est, fs)
        return {
            "pysepm_fwsegsnr": sepm.fwsegsnr(ref, est, fs, spectra),
            "pysepm_llr": sepm.llr(ref, est, fs),
            "pysepm_wss": sepm.wss(ref, est, fs, spectra),
            "pysepm_cd": sepm.cepstrum_distance(ref, est, fs),
            "pysepm_c_sig": c_sig,
            "pysepm_c_bak": c_bak,
            "pysepm_c_ovl": c_ovl,
            "pysepm_csii_high": high,
            "pysepm_csii_mid": mid,
            "pysepm_csii_low": low,
            "pysepm_ncm": sepm.ncm(ref, est, fs),
        }
