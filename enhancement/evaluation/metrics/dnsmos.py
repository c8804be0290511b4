"""DNSMOS (P.835 overall and P.808) with speechmos's models and hops, computed faster.

As versa's ``pseudo_mos``: the estimate is peak-normalised, then scored the way
speechmos 0.0.1.1 scores it: a clip under 9.01 s is doubled until it is long
enough, and every 1-s hop of 9.01 s is scored and the hop scores averaged. A
2-s segment thus costs about seven runs of the 9-s P.835 model when done
literally. Here the model's costly first layers run once over the whole
(doubled) signal and are shared by the hops (see ``dnsmos_graph``), so is the
STFT under the P.808 model's mel input (``dnsmos_mel``); the P.808 model and
the score mapping are speechmos's own, hop by hop. The values agree
with speechmos to float32 rounding (tests/test_evaluation_metrics.py checks it).
"""

from __future__ import annotations

import os

import numpy as np

from . import dnsmos_graph as graph
from .dnsmos_mel import MelFeatures

KEYS = ("dns_overall", "dns_p808")
FS = 16000
INPUT_LENGTH = 9.01  # seconds per hop, as speechmos
CHUNK_FRAMES = 800  # head frames per run over the whole signal (even, so the pool stays aligned): ~70 MB


class Dnsmos:
    """DNSMOS scorer for a job: the sessions and the split model are made once.

    The sessions run on one thread without spin-waiting (a job is one core; the
    default pool burns CPU time waiting).
    """

    def __init__(self, threads: int = 1) -> None:
        from speechmos import dnsmos

        models = graph.speechmos_model_dir()
        primary = os.path.join(models, "sig_bak_ovr.onnx")
        model = dnsmos.DNSMOS.__new__(dnsmos.DNSMOS)  # speechmos's feature and mapping code
        model.primary_model_path = primary
        model.onnx_sess = graph.session(primary, threads)
        model.p808_onnx_sess = graph.session(os.path.join(models, "model_v8.onnx"), threads)
        self._model = model
        self._split = graph.split_primary(primary, threads)
        self._mel = MelFeatures()

    def __call__(self, est: np.ndarray, fs: int) -> dict[str, float]:
        if fs != FS:
            raise ValueError(f"DNSMOS needs 16 kHz audio, got {fs} Hz")
        peak = np.max(np.abs(est))
        audio = est / peak
        if not ((audio >= -1).all() and (audio <= 1).all()):
            raise ValueError("np.ndarray values must be between -1 and 1.")  # speechmos's check (NaN)
        ovr, p808 = self._hop_scores(audio)
        return {"dns_overall": float(np.mean(ovr)), "dns_p808": float(np.mean(p808))}

    def _hop_scores(self, audio: np.ndarray) -> tuple[list, list]:
        """Per-hop OVRL and P.808 scores, the hops chosen exactly as speechmos chooses them.

        A doubled clip repeats with the original's length as period, so two hops
        whose starts differ by a multiple of it have the same input and score:
        each distinct hop is scored once. That needs a length dividing 16000 d
        samples for some d <= 8 (a segment of exactly 2 s has 2 distinct hops of
        7); segments cut at arbitrary samples rarely have one.
        """
        period = len(audio)
        need = int(INPUT_LENGTH * FS)
        while len(audio) < need:
            audio = np.append(audio, audio)
        starts = []
        for idx in range(int(np.floor(len(audio) / FS) - INPUT_LENGTH) + 1):
            start, end = int(idx * FS), int((idx + INPUT_LENGTH) * FS)
            if len(audio[start:end]) == need:  # speechmos skips a hop cut short
                starts.append(start)
        first_of: dict[int, int] = {}  # a hop's input (its start mod period) -> its distinct hop
        distinct, unique = [], []
        for start in starts:
            k = first_of.setdefault(start % period, len(unique))
            if k == len(unique):
                unique.append(start)
            distinct.append(k)
        raw = self._primary_raw(audio.astype("float32"), unique)
        mels = self._mel.hops(audio, unique)
        ovr_of, p808_of = [], []
        for mel, (sig, bak, ovr_raw) in zip(mels, raw):
            p808_of.append(self._model.p808_onnx_sess.run(None, {"input_1": mel})[0][0][0])
            ovr_of.append(self._model.get_polyfit_val(sig, bak, ovr_raw, False)[2])
        return [ovr_of[k] for k in distinct], [p808_of[k] for k in distinct]

    def _primary_raw(self, audio: np.ndarray, starts: list[int]) -> list:
        """Raw (SIG, BAK, OVRL) of the P.835 model for the 9.01-s hops at ``starts``."""
        if len(starts) < 2:  # nothing to share: the whole model, as speechmos runs it
            return [
                self._model.onnx_sess.run(None, {"input_1": audio[None, s : s + int(INPUT_LENGTH * FS)]})[0][0]
                for s in starts
            ]
        hop_frames, pool, edge = graph.HOP_FRAMES, graph.POOL, graph.EDGE_FRAMES
        first = [s // graph.FRAME_HOP for s in starts]
        if any(s % (graph.FRAME_HOP * pool) for s in starts):
            raise AssertionError("DNSMOS hops must start on even frames of the 160-sample grid")
        n_frames = first[-1] + hop_frames
        blocks = audio[: graph.FRAME_HOP * (n_frames + 1)].reshape(n_frames + 1, graph.FRAME_HOP)
        frames = np.concatenate([blocks[:-1], blocks[1:]], axis=1)  # the model's own framing
        head, tail = self._split.head, self._split.tail
        shared = []
        for lo in range(0, n_frames, CHUNK_FRAMES):
            hi = min(lo + CHUNK_FRAMES, n_frames)
            a, b = max(0, lo - graph.CHUNK_HALO), min(n_frames, hi + graph.CHUNK_HALO)
            out = head.run(None, {graph.FRAMES: frames[None, a:b]})[0]
            shared.append(out[:, :, (lo - a) // pool : (hi - a) // pool])
        features = np.concatenate(shared, axis=2)
        edges = np.stack(
            [part for f in first for part in (frames[f : f + edge], frames[f + hop_frames - edge : f + hop_frames])]
        )
        edge_out = head.run(None, {graph.FRAMES: edges})[0]
        out_len, keep = hop_frames // pool, graph.EDGE_POOLED
        raw = []
        for k, f in enumerate(first):
            hop = features[:, :, f // pool : f // pool + out_len].copy()
            hop[0, :, :keep] = edge_out[2 * k, :, :keep]
            hop[0, :, out_len - keep :] = edge_out[2 * k + 1, :, edge // pool - keep :]
            raw.append(tail.run(None, {graph.FEATURES: hop})[0][0])
        return raw
