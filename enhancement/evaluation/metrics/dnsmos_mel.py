"""The P.808 model's log-mel input for every DNSMOS hop, from one STFT of the whole signal.

speechmos computes, per 9.01-s hop, librosa's mel spectrogram of the hop's first
144000 samples (321-point FFT, 160 hop, centred frames with zero padding, 120
mels) and ``(power_to_db(mel, ref=max) + 40) / 40``. The hops start on the
frame grid, so all but each hop's first and last frame are frames of the whole
signal: those are computed once, the two edge frames (which see the zero
padding) per hop, and the per-hop dB scaling stays per hop.

librosa's own steps (``stft``, ``filters.mel``, ``power_to_db``, librosa
0.11.0) are written out here with numpy, operation for operation, so the
features stay bit-identical (tests/test_evaluation_metrics.py compares them with
librosa's) while a scoring job does not import librosa: its import, numba's
included, and its first ``stft`` (numba loading its compiled ufuncs) cost a job
~2 CPU-s.
"""

from __future__ import annotations

import numpy as np

N_FFT = 321
HOP = 160
N_MELS = 120
FS = 16000
HOP_SAMPLES = 144000  # speechmos drops the last 160 of the 144160 samples for P.808
FRAMES = 1 + (HOP_SAMPLES + 2 * (N_FFT // 2) - N_FFT) // HOP  # 900, as librosa frames them
AMIN = 1e-10  # power_to_db's defaults
TOP_DB = 80.0


def _hz_to_mel(hz: float) -> float:
    """librosa's Slaney ``hz_to_mel`` of one frequency."""
    f_sp = 200.0 / 3
    mel = hz / f_sp
    min_log_hz = 1000.0
    if hz >= min_log_hz:
        mel = min_log_hz / f_sp + np.log(np.asarray(hz) / min_log_hz) / (np.log(6.4) / 27.0)
    return mel


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """librosa's Slaney ``mel_to_hz`` of an array."""
    f_sp = 200.0 / 3
    freqs = 0.0 + f_sp * mels
    min_log_hz = 1000.0
    min_log_mel = (min_log_hz - 0.0) / f_sp
    logstep = np.log(6.4) / 27.0
    log_t = mels >= min_log_mel
    freqs[log_t] = min_log_hz * np.exp(logstep * (mels[log_t] - min_log_mel))
    return freqs


def mel_basis(sr: int = FS, n_fft: int = N_FFT, n_mels: int = N_MELS) -> np.ndarray:
    """``librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)``: Slaney scale and
    norm, float32, fmin 0, fmax sr / 2."""
    weights = np.zeros((n_mels, 1 + n_fft // 2), dtype=np.float32)
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    mel_f = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(float(sr) / 2), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    for i in range(n_mels):
        lower = -ramps[i] / fdiff[i]
        upper = ramps[i + 2] / fdiff[i + 1]
        weights[i] = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    return weights


def hann_window(n: int = N_FFT) -> np.ndarray:
    """librosa's ``get_window("hann", n, fftbins=True)``, which is scipy's."""
    from scipy.signal import get_window

    return get_window("hann", n, fftbins=True)


def _db(power: np.ndarray) -> np.ndarray:
    """``librosa.power_to_db``'s elementwise first step (in place of ref = max, the hop's own)."""
    return 10.0 * np.log10(np.maximum(AMIN, power))


def _relative_clipped(log_spec: np.ndarray, ref: float) -> np.ndarray:
    """The rest of ``librosa.power_to_db(power, ref=np.max)``, ``ref`` being the max power."""
    log_spec -= 10.0 * np.log10(np.maximum(AMIN, ref))
    return np.maximum(log_spec, log_spec.max() - TOP_DB)


class MelFeatures:
    """P.808 inputs for hops of one signal; the window and mel filter bank are made once."""

    def __init__(self) -> None:
        self._window = hann_window()
        self._basis = mel_basis()

    def _power(self, frames: np.ndarray) -> np.ndarray:
        """|STFT|^2 of (n, 321) frames, (161, n): librosa's windowed numpy rfft per frame."""
        return (np.abs(np.fft.rfft(self._window * frames, axis=-1)) ** 2).T

    def hops(self, audio: np.ndarray, starts: list[int]) -> list[np.ndarray]:
        """(1, 900, 120) float32 inputs of the hops starting at ``starts`` (multiples of 160)."""
        if not starts:
            return []
        half = N_FFT // 2
        # whole-signal frames m cover [160 m, 160 m + 321): hop frame j (1..898) is m = start/160 + j - 1
        last = starts[-1] // HOP + FRAMES - 2
        idx = np.arange(last)[:, None] * HOP + np.arange(N_FFT)[None, :]
        shared = self._mel(self._power(audio[idx]))
        edges = []
        for s in starts:
            seg = audio[s : s + HOP_SAMPLES]
            edges.append(np.concatenate([np.zeros(half), seg[: N_FFT - half]]))
            tail_start = HOP * (FRAMES - 1) - half
            tail = seg[tail_start:]
            edges.append(np.concatenate([tail, np.zeros(N_FFT - len(tail))]))
        edge_mel = self._mel(self._power(np.stack(edges)))
        # power_to_db's first step is elementwise: made once for the frames the hops share
        shared_db, edge_db = _db(shared), _db(edge_mel)
        out = []
        for k, s in enumerate(starts):
            m = s // HOP
            ref = max(edge_mel[:, 2 * k].max(), shared[:, m : m + FRAMES - 2].max(), edge_mel[:, 2 * k + 1].max())
            log_spec = np.concatenate(
                [edge_db[:, 2 * k : 2 * k + 1], shared_db[:, m : m + FRAMES - 2], edge_db[:, 2 * k + 1 : 2 * k + 2]],
                axis=1,
            )
            feats = (_relative_clipped(log_spec, ref) + 40) / 40
            out.append(np.array(feats.T).astype("float32")[np.newaxis, :, :])
        return out

    def _mel(self, power: np.ndarray) -> np.ndarray:
        return np.einsum("...ft,mf->...mt", power, self._basis, optimize=True)
