"""Scores against references: SI-SDR by its formula, STOI/PESQ at their ends, segment handling."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from enhancement.metrics import (
    MetricUnavailable,
    Segment,
    SegmentListError,
    compare_systems,
    evaluate_file,
    pesq,
    read_scores,
    read_segments,
    si_sdr,
    stoi,
    summarise_by_device,
    summarise_by_file,
    write_scores,
)

RATE = 16000
CONTEXT = {"system": "test", "dataset": "dev", "session": "dev_02", "device": "aria", "pid": "P302"}


def speech_like(seconds: float = 3.0, f0: float = 140.0, seed: int = 0) -> np.ndarray:
    """Harmonic 'syllables' at 3 Hz: enough like speech for STOI's and PESQ's voice detection."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    voice = sum(np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 2 * np.pi)) / h for h in range(1, 20))
    syllables = np.maximum(np.sin(2 * np.pi * 3 * t), 0)
    return 0.3 * voice * syllables / np.abs(voice).max()


def orthogonal_noise(signal: np.ndarray, power: float, seed: int = 1) -> np.ndarray:
    """Zero-mean white noise of exactly ``power`` (mean square), orthogonal to the zero-mean signal."""
    noise = np.random.default_rng(seed).standard_normal(len(signal))
    centred = signal - signal.mean()
    noise -= noise.mean()
    noise -= np.dot(noise, centred) / np.dot(centred, centred) * centred
    return noise * math.sqrt(power / np.mean(noise**2))


def si_sdr_by_the_book(s: np.ndarray, x: np.ndarray) -> float:
    """Le Roux et al. (2019), eq. for SI-SDR, on zero-mean signals."""
    s, x = s - s.mean(), x - x.mean()
    target = (x @ s) / (s @ s) * s
    return 10 * math.log10((target @ target) / ((x - target) @ (x - target)))


# ---- SI-SDR ------------------------------------------------------------------


@pytest.mark.parametrize("gain, snr_db", [(1.0, 20.0), (0.5, 0.0), (3.0, -5.0), (0.01, 10.0)])
def test_si_sdr_of_a_scaled_copy_plus_noise_of_known_power(gain, snr_db):
    s = speech_like()
    s_power = np.mean((s - s.mean()) ** 2)
    noise = orthogonal_noise(s, power=gain**2 * s_power / 10 ** (snr_db / 10))
    assert si_sdr(s, gain * s + noise) == pytest.approx(snr_db, abs=1e-6)


def test_si_sdr_matches_the_direct_formula_on_arbitrary_signals():
    rng = np.random.default_rng(7)
    s = rng.standard_normal(8000)
    x = rng.standard_normal(8000) + 0.8 * s + 0.1  # correlated, with an offset the zero-mean step removes
    assert si_sdr(s, x) == pytest.approx(si_sdr_by_the_book(s, x), abs=1e-9)


def test_si_sdr_is_scale_invariant_and_infinite_for_a_scaled_copy():
    s = speech_like()
    x = 0.3 * s + orthogonal_noise(s, 1e-4)
    assert si_sdr(s, 7.0 * x) == pytest.approx(si_sdr(s, x), abs=1e-9)
    assert si_sdr(s, 2.0 * s) == math.inf


def test_si_sdr_refuses_a_silent_reference_or_output():
    with pytest.raises(MetricUnavailable, match="reference is silent"):
        si_sdr(np.zeros(100), np.ones(100))
    with pytest.raises(MetricUnavailable, match="output is silent"):
        si_sdr(np.ones(100) + np.arange(100), np.zeros(100))
    with pytest.raises(ValueError, match="shape"):
        si_sdr(np.ones(100), np.ones(99))


# ---- STOI and PESQ -----------------------------------------------------------


def test_stoi_and_pesq_of_a_file_against_itself_are_at_the_top():
    s = speech_like()
    assert stoi(s, s) == pytest.approx(1.0, abs=1e-6)
    assert pesq(s, s) == pytest.approx(4.64, abs=0.05)


def test_stoi_and_pesq_of_noise_are_low():
    s = speech_like()
    noise = 0.1 * np.random.default_rng(3).standard_normal(len(s))
    assert stoi(s, noise) < 0.5
    assert pesq(s, noise) < 1.5


def test_pesq_scores_a_silent_output_at_the_floor():
    s = speech_like()
    assert pesq(s, np.zeros_like(s)) < 1.1


def test_too_short_or_silent_segments_say_why():
    s = speech_like()
    with pytest.raises(MetricUnavailable, match="PESQ: buffer needs to be at least 1/4"):
        pesq(s[:2000], s[:2000])
    with pytest.raises(MetricUnavailable, match="PESQ: the reference is silent"):
        pesq(np.zeros(RATE), s[:RATE])
    with pytest.raises(MetricUnavailable, match="STOI: too little speech"):
        stoi(s[:3000], s[:3000])


# ---- segments ----------------------------------------------------------------


def write_wav(path, data):
    sf.write(str(path), data.astype(np.float32), RATE, subtype="PCM_16")
    return path


def test_read_segments_headerless_and_errors(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("0,100,200\n1,300,400\n\n")
    assert read_segments(good) == [Segment(0, 100, 200), Segment(1, 300, 400)]
    bad = tmp_path / "bad.csv"
    bad.write_text("0,100,200\n1,300\n")
    with pytest.raises(SegmentListError, match="bad.csv, line 2"):
        read_segments(bad)
    header = tmp_path / "header.csv"
    header.write_text("index,start,end\n0,1,2\n")
    with pytest.raises(SegmentListError, match="line 1"):
        read_segments(header)


def test_evaluate_file_on_a_hand_made_segment_list(tmp_path, caplog):
    clean = np.concatenate([speech_like(2.0, seed=1), np.zeros(RATE), speech_like(2.0, f0=180, seed=2)])
    noisy = clean + orthogonal_noise(clean, 1e-4)  # 5 s, 80000 samples
    reference = write_wav(tmp_path / "ref.wav", clean)
    submission = write_wav(tmp_path / "out.wav", noisy)
    segments = tmp_path / "segments.csv"
    segments.write_text(
        "0,0,32000\n"          # the first 2 s of speech: scored
        "1,48000,80000\n"      # the last 2 s, up to the very end: scored
        "2,1000,2600\n"        # 0.1 s: too short for PESQ and STOI, SI-SDR still scored
        "3,70000,90000\n"      # runs 10000 samples past the end: reported, not scored
        "4,500,500\n"          # empty
    )
    with caplog.at_level(logging.INFO):
        rows = evaluate_file(submission, reference, segments, CONTEXT)
    assert [r.segment for r in rows] == [0, 1, 2, 3, 4]
    assert [r.status for r in rows] == ["ok", "ok", "partial", "past_end", "invalid"]
    assert all(r.system == "test" and r.pid == "P302" for r in rows)
    ok = rows[0]
    assert ok.si_sdr == pytest.approx(si_sdr_by_the_book(clean[:32000], noisy[:32000]), abs=0.01)
    assert 0.8 < ok.stoi <= 1 and 1 < ok.pesq < 4.7 and ok.seconds == 2.0
    assert rows[1].end == 80000 and not math.isnan(rows[1].pesq)
    short = rows[2]
    assert not math.isnan(short.si_sdr) and math.isnan(short.pesq) and math.isnan(short.stoi)
    assert "PESQ: buffer needs" in short.note and "STOI" in short.note
    past = rows[3]
    assert math.isnan(past.si_sdr) and "ends at 90000" in past.note and "80000" in past.note
    assert any(r.levelname == "WARNING" and "segment 3" in r.getMessage() for r in caplog.records)


def test_an_empty_segment_list_is_a_row_not_nothing(tmp_path):
    clean = speech_like(1.0)
    reference, submission = write_wav(tmp_path / "ref.wav", clean), write_wav(tmp_path / "out.wav", clean)
    (tmp_path / "segments.csv").write_text("")
    rows = evaluate_file(submission, reference, tmp_path / "segments.csv", CONTEXT)
    assert [(r.segment, r.status) for r in rows] == [(None, "no_segments")]


def test_tables_round_trip_and_summaries_count_every_segment(tmp_path):
    clean = speech_like(3.0)
    reference = write_wav(tmp_path / "ref.wav", clean)
    submission = write_wav(tmp_path / "out.wav", clean + orthogonal_noise(clean, 1e-3))
    (tmp_path / "seg.csv").write_text("0,0,16000\n1,16000,48000\n2,40000,60000\n")
    (tmp_path / "empty.csv").write_text("")
    write_scores(evaluate_file(submission, reference, tmp_path / "seg.csv", CONTEXT), tmp_path / "a.csv")
    write_scores(evaluate_file(submission, reference, tmp_path / "empty.csv", {**CONTEXT, "device": "ha"}),
                 tmp_path / "b.csv")
    scores = read_scores([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert list(scores.status) == ["ok", "ok", "past_end", "no_segments"]
    assert scores.segment.isna().tolist() == [False, False, False, True]

    by_file = summarise_by_file(scores)
    assert by_file[["device", "segments", "scored", "past_end"]].values.tolist() == [
        ["aria", 3, 2, 1], ["ha", 0, 0, 0]]
    assert by_file.si_sdr[0] == pytest.approx(scores.si_sdr[:2].mean())

    by_device = summarise_by_device(scores).set_index("device")
    assert list(by_device.index) == ["aria", "ha", "all"]
    assert by_device.loc["all", ["files", "segments", "scored", "past_end"]].tolist() == [2, 3, 2, 1]
    assert math.isnan(by_device.loc["ha", "si_sdr"])


def test_comparison_improvement_is_over_the_first_system_on_common_segments():
    def table(system, values, statuses=None):
        return pd.DataFrame({
            "system": system, "dataset": "dev", "session": "s", "device": ["aria", "aria", "ha"],
            "pid": "P1", "segment": [0, 1, 0], "status": statuses or ["ok"] * 3,
            "si_sdr": values, "stoi": [0.5, 0.5, 0.5], "pesq": [1.5, 1.5, 1.5],
        })

    base = table("passthrough", [1.0, 2.0, 3.0])
    better = table("better", [4.0, np.nan, 5.0], ["ok", "past_end", "ok"])
    result = compare_systems({"passthrough": base, "better": better}).set_index(["system", "device"])
    assert result.loc[("better", "aria"), "si_sdr_improvement"] == pytest.approx(3.0)  # segment 1 left out
    assert result.loc[("better", "ha"), "si_sdr_improvement"] == pytest.approx(2.0)
    assert result.loc[("better", "all"), "si_sdr_improvement"] == pytest.approx(2.5)
    assert result.loc[("passthrough", "all"), "stoi_improvement"] == 0
    assert result.loc[("better", "aria"), "past_end"] == 1
    alone = compare_systems({"better": better})
    assert "si_sdr_improvement" not in alone.columns
