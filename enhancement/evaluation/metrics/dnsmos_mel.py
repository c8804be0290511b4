"""The P.808 model's log-mel input for every DNSMOS hop, from one STFT of the whole signal.

speechmos computes, per 9.01-s hop, librosa's mel spectrogram of the hop's first
144000 samples (321-point FFT, 160 hop, centred frames with zero padding, 120
mels) and ``(power_to_db(mel, ref=max) + 40) / 40``. The hops start on the
frame grid, so all but each hop's first and last frame are frames of the whole
signal: those are computed once, the two edge frames (which see the zero
padding) per hop, and the per-hop dB scaling stays per hop.
"""

from __future__ import annotations

import numpy as np

N_FFT = 321
HOP = 160
N_MELS = 120
FS = 16000
HOP_SAMPLES = 144000  # speechmos drops the last 160 of the 144160 samples for P.808
FRAMES = 1 + (HOP_SAMPLES + 2 * (N_FFT // 2) - N_FFT) // HOP  # 900, as librosa frames them


def _power(frames: np.ndarray) -> np.ndarray:
    """|STFT|^2 of (n, 321) frames, one column each, with librosa's own STFT."""
    import librosa

    flat = frames.reshape(-1)
    return np.abs(librosa.stft(flat, n_fft=N_FFT, hop_length=N_FFT, center=False, window="hann")) ** 2


class MelFeatures:
    """P.808 inputs for hops of one signal; the mel filter bank is made once."""

    def __init__(self) -> None:
        import librosa

        self._basis = librosa.filters.mel(sr=FS, n_fft=N_FFT, n_mels=N_MELS)

    def hops(self, audio: np.ndarray, starts: list[int]) -> list[np.ndarray]:
        """(1, 900, 120) float32 inputs of the hops starting at ``starts`` (multiples of 160)."""
        import librosa

        if not starts:
            return []
        half = N_FFT // 2
        # whole-signal frames m cover [160 m, 160 m + 321): hop frame j (1..898) is m = start/160 + j - 1
        last = starts[-1] // HOP + FRAMES - 2
        idx = np.arange(last)[:, None] * HOP + np.arange(N_FFT)[None, :]
        shared = self._mel(_power(audio[idx]))
        edges = []
        for s in starts:
            seg = audio[s:s + HOP_SAMPLES]
            edges.append(np.concatenate([np.zeros(half), seg[:N_FFT - half]]))
            tail_start = HOP * (FRAMES - 1) - half
            tail = seg[tail_start:]
            edges.append(np.concatenate([tail, np.zeros(N_FFT - len(tail))]))
        edge_mel = self._mel(_power(np.stack(edges)))
        out = []
        for k, s in enumerate(starts):
            m = s // HOP
            mel = np.concatenate([edge_mel[:, 2 * k:2 * k + 1], shared[:, m:m + FRAMES - 2],
                                  edge_mel[:, 2 * k + 1:2 * k + 2]], axis=1)
            feats = (librosa.power_to_db(mel, ref=np.max) + 40) / 40
            out.append(np.array(feats.T).astype("float32")[np.newaxis, :, :])
        return out

    def _mel(self, power: np.ndarray) -> np.ndarray:
        return np.einsum("...ft,mf->...mt", power, self._basis, optimize=True)
