"""Each metric of the official ECHI set: known values, the packages it must agree with, edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import solve_toeplitz
from scipy.signal import lfilter

from enhancement.evaluation.metrics import (
    FAMILY_KEYS,
    SegmentMetricError,
    SegmentScorer,
    metric_keys,
    minimum_length_s,
    perceptual,
    resolve_metrics,
    sepm,
    signal,
)
from enhancement.evaluation.segments import pcm16_round_trip

FS = 16000


def speech_like(seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    n = int(seconds * FS)
    t = np.arange(n) / FS
    f0 = 120 + 30 * np.sin(2 * np.pi * 0.8 * t + seed)
    phase = 2 * np.pi * np.cumsum(f0) / FS
    src = sum(np.sin(k * phase) / k for k in range(1, 25)) + 0.2 * rng.standard_normal(n)
    x = lfilter([0.05], [1, -1.6, 0.9], src) * np.clip(np.sin(2 * np.pi * 3.7 * t + seed), 0.05, None)
    return pcm16_round_trip(0.2 * x / np.max(np.abs(x)))


@pytest.fixture(scope="module")
def pair() -> tuple[np.ndarray, np.ndarray]:
    ref = speech_like(2.0, 1)
    est = pcm16_round_trip(
        0.7 * ref + 0.2 * speech_like(2.0, 2) + 0.003 * np.random.default_rng(3).standard_normal(len(ref))
    )
    return est, ref


def test_bss_eval_matches_mir_eval(pair):
    from mir_eval.separation import bss_eval_sources

    est, ref = pair
    sdr, sir, sar, _ = bss_eval_sources(ref[None], est[None], compute_permutation=False)
    ours = signal.bss_eval_one_source(est, ref)
    assert ours[0] == pytest.approx(sdr[0], abs=1e-9)
    assert ours[2] == pytest.approx(sar[0], abs=1e-9)
    assert ours[1] == np.inf and sir[0] == np.inf


def test_signal_metric_refuses_silence(pair):
    est, ref = pair
    with pytest.raises(ValueError, match="silent"):
        signal.signal_metric(np.zeros_like(est), ref)


def test_ci_sdr_is_invariant_to_a_short_filter(pair):
    _, ref = pair
    filtered = lfilter([0.6, -0.3, 0.2, 0.1], [1.0], ref)
    est = filtered + 1e-4 * np.random.default_rng(0).standard_normal(len(ref))
    ci = signal.ci_sdr(est[None], ref[None])
    si = signal.si_snr(est[None], ref[None])
    sdr = signal.bss_eval_one_source(est, ref)[0]
    assert ci > 30 > si
    assert ci == pytest.approx(sdr, abs=2e-3)  # float32 against float64, same definition


def test_si_snr_definition(pair):
    est, ref = pair
    alpha = np.dot(est, ref) / np.dot(ref, ref)
    expected = 10 * np.log10(np.sum((alpha * ref) ** 2) / np.sum((est - alpha * ref) ** 2))
    assert signal.si_snr(est[None], ref[None]) == pytest.approx(expected, abs=1e-3)
    assert signal.si_snr(3 * ref[None], ref[None]) > 50  # float32 limit


def test_sepm_identity_values():
    x = speech_like(1.0, 4)
    assert sepm.fwsegsnr(x, x, FS) == pytest.approx(35.0)
    assert sepm.llr(x, x, FS) == pytest.approx(0.0, abs=1e-9)
    assert sepm.wss(x, x, FS) == pytest.approx(0.0, abs=1e-9)
    assert sepm.cepstrum_distance(x, x, FS) == pytest.approx(0.0, abs=1e-9)
    y = x + 1e-6 * np.random.default_rng(8).standard_normal(len(x))  # r^2 = 1 exactly can round above 1
    assert sepm.ncm(x, y, FS) == pytest.approx(1.0)
    levels = sepm.csii(x, y, FS)
    assert levels[0] == pytest.approx(1.0)  # a level without frames is NaN, the others 1
    assert all(np.isnan(v) or v == pytest.approx(1.0) for v in levels)
    c_sig, c_bak, c_ovl = sepm.composite(x, x, FS, 4.5)
    assert c_sig == 5.0 and c_ovl == 5.0 and c_bak == pytest.approx(min(5.0, 1.634 + 0.478 * 4.5 + 0.063 * 35))


def test_sepm_degrades_with_noise(pair):
    est, ref = pair
    noisy = est + 0.05 * np.random.default_rng(5).standard_normal(len(est))
    assert sepm.fwsegsnr(ref, noisy, FS) < sepm.fwsegsnr(ref, est, FS)
    assert sepm.llr(ref, noisy, FS) > sepm.llr(ref, est, FS)
    assert sepm.ncm(ref, noisy, FS) < sepm.ncm(ref, est, FS)
    assert 1.0 <= min(sepm.composite(ref, noisy, FS, 1.2)) <= max(sepm.composite(ref, noisy, FS, 1.2)) <= 5.0


def test_levinson_solves_the_normal_equations():
    frames = np.random.default_rng(6).standard_normal((5, 480))
    r = sepm._autocorr(frames, 16)
    a = sepm._levinson(r, 16)
    for row, lags in zip(a, r):
        assert -row[1:] == pytest.approx(solve_toeplitz(lags[:16], lags[1:17]), rel=1e-8, abs=1e-10)


def test_local_peaks_follow_klatts_rule():
    rng = np.random.default_rng(7)
    energy = rng.standard_normal((25, 40)) * 10
    slope = np.diff(energy, axis=0)
    ours = sepm._local_peaks(slope, energy)
    for f in range(energy.shape[1]):
        for i in range(24):
            n = i
            if slope[i, f] > 0:
                while n < 24 and slope[n, f] > 0:
                    n += 1
                assert ours[i, f] == energy[n - 1, f]
            else:
                while n >= 0 and slope[n, f] <= 0:
                    n -= 1
                assert ours[i, f] == energy[n + 1, f]


def test_csii_low_is_nan_without_low_level_frames():
    x = 0.1 * np.sin(2 * np.pi * 440 * np.arange(4800) / FS)
    assert np.isnan(sepm.csii(x, x + 1e-3, FS)[2])


def test_pesq_and_stoi_edge_values(pair):
    est, ref = pair
    assert 1.0 < perceptual.pesq_raw(est, ref, FS) < 4.7
    with pytest.raises(ValueError):
        perceptual.pesq_raw(np.zeros_like(est), ref, FS)
    assert perceptual.pesq_or_zero(np.zeros_like(est), ref, FS) == 0.0
    assert perceptual.stoi(est[:4800], ref[:4800], FS) == pytest.approx(1e-5)
    assert 0.5 < perceptual.stoi(est, ref, FS) <= 1.0


def test_dnsmos_is_peak_normalised(pair):
    from enhancement.evaluation.metrics.dnsmos import Dnsmos

    est, _ = pair
    d = Dnsmos()
    a = d(est[:16000], FS)
    b = d(0.25 * est[:16000], FS)
    assert set(a) == {"dns_overall", "dns_p808"}
    assert 1.0 <= a["dns_overall"] <= 5.0 and a == pytest.approx(b, rel=1e-6)


@pytest.mark.slow  # five lengths of the reference DNSMOS computation
@pytest.mark.parametrize("seconds", [0.5, 2.0, 3.3, 4.27, 12.3])
def test_dnsmos_shared_hops_equal_speechmos(seconds):
    """The split model with shared hops gives speechmos's own values (1 to 7 hops of 9.01 s)."""
    from enhancement.evaluation.metrics.dnsmos import Dnsmos

    est = speech_like(seconds, 7)
    d = Dnsmos()
    ours = d(est, FS)
    theirs = d._model(est / np.max(np.abs(est)), FS, False)  # speechmos's hop loop, unsplit model
    assert ours["dns_overall"] == pytest.approx(float(theirs["ovrl_mos"]), abs=1e-6)
    assert ours["dns_p808"] == pytest.approx(float(theirs["p808_mos"]), abs=1e-6)


def test_dnsmos_head_chunks_change_no_bit(monkeypatch):
    """The whole-signal head run in chunks (halo CHUNK_HALO) gives the bits of one run."""
    from enhancement.evaluation.metrics import dnsmos

    d = dnsmos.Dnsmos()
    x = (0.1 * np.random.default_rng(3).standard_normal(FS * 12)).astype(np.float32)
    starts = list(range(0, len(x) - 144160 + 1, FS))
    monkeypatch.setattr(dnsmos, "CHUNK_FRAMES", 10**6)
    whole = d._primary_raw(x, starts)
    monkeypatch.setattr(dnsmos, "CHUNK_FRAMES", 100)
    assert all(np.array_equal(a, b) for a, b in zip(d._primary_raw(x, starts), whole, strict=True))


@pytest.mark.xdist_group("librosa")  # one worker compiles librosa's numba code (~16 s), not each
@pytest.mark.parametrize("samples", [144160, 190003, 256000])
def test_dnsmos_p808_features_are_speechmos_own_bits(samples):
    """The P.808 input written with numpy (no librosa in a job) is speechmos's, bit for bit."""
    import librosa
    from speechmos import dnsmos

    from enhancement.evaluation.metrics import dnsmos_mel

    assert np.array_equal(dnsmos_mel.mel_basis(), librosa.filters.mel(sr=FS, n_fft=321, n_mels=120))
    x = 0.1 * np.random.default_rng(samples).standard_normal(samples)
    starts = list(range(0, samples - 144160 + 1, FS))
    model = dnsmos.DNSMOS.__new__(dnsmos.DNSMOS)
    ours = dnsmos_mel.MelFeatures().hops(x, starts)
    for start, got in zip(starts, ours, strict=True):
        expected = np.array(model.audio_melspec(audio=x[start : start + 144160][:-160])).astype("float32")
        assert np.array_equal(got[0], expected)


def test_dnsmos_graph_cut_is_onnx_extractors():
    """The P.835 model cut on its protobuf bytes (no onnx import in a job) has
    onnx.utils.Extractor's nodes and initializers, and computes the same."""
    import os

    import onnx
    from onnx.utils import Extractor

    from enhancement.evaluation.metrics import dnsmos_graph as g

    path = os.path.join(g.speechmos_model_dir(), "sig_bak_ovr.onnx")
    with open(path, "rb") as f:
        head, tail = (onnx.load_from_string(b) for b in g.cut_graph(f.read()))
    extractor = Extractor(onnx.shape_inference.infer_shapes(onnx.load(path)))
    for ours, (src, dst) in ((head, (g.FRAMES, g.FEATURES)), (tail, (g.FEATURES, g.SCORES))):
        onnx.checker.check_model(ours)
        theirs = extractor.extract_model([src], [dst])
        assert [n.name for n in ours.graph.node] == [n.name for n in theirs.graph.node]
        assert sorted(i.name for i in ours.graph.initializer) == sorted(i.name for i in theirs.graph.initializer)
        assert [i.name for i in ours.graph.input] == [src] and [o.name for o in ours.graph.output] == [dst]
    frames = (0.1 * np.random.default_rng(0).standard_normal((2, 40, 320))).astype(np.float32)
    head_out = g.session(head.SerializeToString(), 1).run(None, {g.FRAMES: frames})[0]
    assert head_out.shape == (2, 32, 20, 80)
    features = np.pad(head_out, ((0, 0), (0, 0), (0, 430), (0, 0)))
    full_tail = extractor.extract_model([g.FEATURES], [g.SCORES]).SerializeToString()
    assert np.array_equal(
        g.session(tail.SerializeToString(), 1).run(None, {g.FEATURES: features})[0],
        g.session(full_tail, 1).run(None, {g.FEATURES: features})[0],
    )
    with pytest.raises(RuntimeError, match="not the DNSMOS P.835 graph"):
        with open(os.path.join(g.speechmos_model_dir(), "model_v8.onnx"), "rb") as f:
            g.cut_graph(f.read(), "model_v8.onnx")


def test_dnsmos_job_imports_neither_onnx_nor_librosa_core():
    """What a scoring job pays for at set-up: onnx (1.4 CPU-s) and librosa's core
    with numba (~2 CPU-s with its first stft) are not imported by DNSMOS."""
    import subprocess
    import sys

    script = """
import sys
import numpy as np
from enhancement.evaluation.metrics.dnsmos import Dnsmos
Dnsmos()(np.sin(np.arange(20000) * 0.05) * 0.3, 16000)
print("imported:", sorted(m for m in ("onnx", "numba", "librosa.core") if m in sys.modules))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "imported: []" in out


def test_metric_sets():
    assert resolve_metrics("quick") == ("pysepm", "pesq", "stoi")
    assert resolve_metrics("full") == tuple(FAMILY_KEYS)
    assert resolve_metrics(["stoi", "sdr", "pseudo_mos"]) == ("signal_metric", "stoi", "dnsmos")
    assert metric_keys(resolve_metrics("quick"))[-2:] == ["pesq", "stoi"]
    with pytest.raises(ValueError, match="not computed"):
        resolve_metrics(["utmos"])
    with pytest.raises(ValueError, match="unknown metric"):
        resolve_metrics(["loudness"])
    assert minimum_length_s(("pesq",)) == 0.25 and minimum_length_s(("pysepm", "stoi")) == 0.3
    assert minimum_length_s(("signal_metric",)) == 0.0


def test_scorer_failure_rules(pair):
    est, ref = pair
    silent = np.zeros_like(est)
    with pytest.raises(SegmentMetricError, match="pysepm"):
        SegmentScorer("quick").score(silent, ref)
    row = SegmentScorer(["signal_metric", "pesq"]).score(silent, ref)
    assert row == {"pesq": 0.0}  # signal_metric's ValueError drops its keys only, PESQ counts 0
    row = SegmentScorer(["signal_metric", "stoi"]).score(est, ref)
    assert list(row) == ["sdr", "sir", "sar", "si_snr", "ci_sdr", "stoi"]


def test_ncm_fixed_16k_design_is_the_butterworth_design():
    from scipy.signal import butter

    filters, weight, _ = sepm._ncm_design.__wrapped__(FS)
    edges = np.array(sepm._NCM_EDGES_16K)
    x = np.arange(len(edges)) * (np.log10(7400 / 165 + 1) - np.log10(300 / 165 + 1)) / 20 + np.log10(300 / 165 + 1)
    assert edges == pytest.approx(165 * (10**x - 1), rel=1e-12)
    assert len(filters) == 20 and len(weight) == 20
    for i, (b, a) in enumerate(filters):
        b2, a2 = butter(4, edges[i : i + 2] * 2 / FS, btype="bandpass")
        assert b == pytest.approx(b2, rel=1e-12, abs=1e-25) and a == pytest.approx(a2, rel=1e-12)


@pytest.mark.parametrize(("taps", "fc"), [(101, 0.1), (601, 0.0321), (5001, 1 / 2 / 250)])  # the last: 8 kHz's
def test_ncm_anti_alias_filter_is_what_firls_designs(taps, fc):
    from scipy.signal import firls

    expected = firls(taps, np.array([0, 2 * fc, 2 * fc, 1]), np.array([1, 1, 0, 0]))
    got = sepm.brickwall_least_squares(taps, fc)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13 * np.abs(expected).max())
    with pytest.raises(ValueError, match="odd"):
        sepm.brickwall_least_squares(taps + 1, fc)


def test_torch_only_for_a_torch_metric_and_then_on_one_thread():
    """Scoring without signal_metric leaves torch unimported; with it, torch runs
    single-threaded while scoring (the official numbers' condition) and gets its
    thread count back after."""
    import subprocess
    import sys

    script = """
import sys
import numpy as np
from enhancement.evaluation.metrics import SegmentScorer
x = np.sin(np.arange(16000) * 0.05) * 0.3
y = x + 0.01 * np.cos(np.arange(16000) * 0.7)
SegmentScorer("quick").score(y, x)
print("torch imported:", "torch" in sys.modules)
import torch
torch.set_num_threads(2)
scorer = SegmentScorer(["signal_metric"])
seen = []
real = scorer._score
scorer._score = lambda est, ref: seen.append(torch.get_num_threads()) or real(est, ref)
row = scorer.score(y, x)
print("threads while scoring:", seen, "after:", torch.get_num_threads(), "ci_sdr" in row)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert "torch imported: False" in out
    assert "threads while scoring: [1] after: 2 True" in out


@pytest.mark.parametrize("n", [4800, 4801, 15173, 37777])
def test_ncm_band_envelopes_equal_scipy_hilbert(n):
    """One complex FFT pair per band for both signals: scipy.signal.hilbert's magnitudes."""
    from scipy.signal import hilbert

    rng = np.random.default_rng(n)
    xb, yb = rng.standard_normal((2, 20, n))
    for got, bands in zip(sepm.band_envelopes(xb, yb), (xb, yb), strict=True):
        expected = np.abs(hilbert(bands, axis=1))
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13 * expected.max())


@pytest.mark.parametrize("n", [4800, 4801, 37777])
def test_ncm_envelope_resampling_equals_upfirdn(n):
    """NCM's 32-Hz envelope resampling keeps only upfirdn's needed outputs, with the same values."""
    from fractions import Fraction

    from scipy.signal import upfirdn

    _, _, h = sepm._ncm_design(FS)
    x = np.abs(np.random.default_rng(n).standard_normal((n, 20)))
    q = Fraction(32, FS).denominator
    half = (len(h) - 1) / 2
    nz = int(np.floor(q - np.mod(half, q)))
    hh = np.concatenate((np.zeros(nz), h, np.zeros(q)))  # trailing zeros do not change the kept outputs
    delay = int(np.floor(np.ceil(half + nz) / q))
    expected = upfirdn(hh, x, 1, q, axis=0)[delay:][: int(np.ceil(n / q))]
    got = sepm._resample_envelope(x, FS, h)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
