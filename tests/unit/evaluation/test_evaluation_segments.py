"""Targets, segment lists, cutting, every skip reason, tables, statistics and report files."""

from __future__ import annotations

import json
import logging
import math
import os
import re

import numpy as np
import pytest
import soundfile as sf

from enhancement.data.challenge import REFERENCE, SEGMENTS
from enhancement.data.manifest import ManifestError, Target
from enhancement.evaluation import (
    evaluate_folder,
    read_table,
    write_reports,
    write_table,
)
from enhancement.evaluation.metrics import SegmentScorer
from enhancement.evaluation.scoring import PartnerFiles, score_segments, score_session_device
from enhancement.evaluation.segments import (
    Segment,
    pcm16_round_trip,
    read_segments,
    skip_reason,
)
from enhancement.evaluation.stats import compute_stats

FS = 16000


def tone(n: int, f: float = 300.0, amp: float = 0.2) -> np.ndarray:
    """Broadband noise under a slow envelope (STOI needs energy in every band)."""
    t = np.arange(n) / FS
    noise = np.random.default_rng(int(f)).standard_normal(n)
    return pcm16_round_trip(amp * 0.3 * noise * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)))


def test_the_folder_is_read_through_the_workflows_manifest_reader(tmp_path, caplog):
    """Its own reader took neither a byte-order mark nor the manifest's checks."""
    root, sub = small_dataset(tmp_path / "data", sub=tmp_path / "sub"), tmp_path / "sub"
    manifest = root / "metadata" / "sessions.dev.csv"
    manifest.write_text("\ufeff" + manifest.read_text(), encoding="utf-8")  # as spreadsheets save it
    summary = evaluate_folder(root, sub, "dev", tmp_path / "out", metrics=["stoi"], earliest_start_s=0.0)
    assert summary["levels"]["aria.individual._._"]["kept"] == 6
    manifest.write_text("session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\ndev_01,1,1,P1,P2,P3,P4\n")
    with pytest.raises(
        ManifestError,
        match=r"sessions.dev.csv, row 2 \(session dev_01\): field 'ha_pos' = '1' "
        r"is also aria_pos",
    ):
        evaluate_folder(root, sub, "dev", tmp_path / "out", metrics=["stoi"])
    with pytest.raises(ManifestError, match=r"sessions manifest .*sessions.eval.csv not found"):
        evaluate_folder(root, sub, "eval", tmp_path / "out", metrics=["stoi"])


def test_segment_list_and_keys(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("0,480000,529583\n12,5,9\n")
    segs = read_segments(path)
    assert segs == [Segment(0, 480000, 529583), Segment(12, 5, 9)]
    assert segs[0].key("dev_21.aria.P202") == "dev_21.aria.P202.000.480000_529583.wav"
    path.write_text("0,1.5,3\n")
    with pytest.raises(ValueError, match=r"s\.csv:1"):
        read_segments(path)


def test_pcm16_round_trip_rounds_half_even_and_clips():
    x = np.array([0.5 / 32768, 1.5 / 32768, 1.2, -1.5, -1.0, 32767.4 / 32768])
    assert list(pcm16_round_trip(x) * 32768) == [0, 2, 32767, -32768, -32768, 32767]


@pytest.mark.parametrize(
    ("seg", "ref_mod", "reason"),
    [
        (Segment(0, 9000, 20100), None, "past_end"),
        (Segment(1, 100, 9000), None, "before_30s"),
        (Segment(2, 10000, 14799), None, "too_short"),
        (Segment(3, 10000, 14800), None, None),  # exactly 0.3 s is kept (the check is < 0.3 s)
        (Segment(4, 10000, 16000), "zero", "constant_ref"),
        (Segment(5, 10000, 16000), "dc", "constant_ref"),
        (Segment(6, 200, 5100), None, None),
    ],
)
def test_skip_reasons(seg, ref_mod, reason):
    ref = tone(20000)
    est = tone(20000, amp=0.1)
    if ref_mod == "zero":
        ref[seg.start : seg.end] = 0
    elif ref_mod == "dc":
        ref[seg.start : seg.end] = 0.25
    got = skip_reason(seg, ref, est, earliest_start=200, min_length_s=0.3)
    assert (got[0] if got else None) == reason


def test_score_segments_rows_and_metric_failure():
    ref = tone(40000)
    est = tone(40000, amp=0.1)
    est[20000:30000] = 0
    segs = [Segment(0, 1000, 9000), Segment(1, 20000, 30000), Segment(2, 39000, 41000), Segment(3, 10, 900)]
    rows = score_segments(
        Target("dev", "dev_01", "aria", "P2"),
        "individual",
        segs,
        ref,
        est,
        SegmentScorer("quick"),
        earliest_start_s=0.0,
    )
    assert [(r["status"], r["reason"]) for r in rows] == [
        ("scored", ""),
        ("skipped", "metric_failed"),
        ("skipped", "past_end"),
        ("skipped", "too_short"),
    ]
    assert "pysepm" in rows[1]["detail"]
    assert 0.9 < rows[0]["stoi"] <= 1.0 and "pesq" not in rows[1]


def test_table_round_trip_is_exact(tmp_path):
    rows = [
        {
            "key": "a.wav",
            "session": "s",
            "device": "aria",
            "pid": "P1",
            "segment_type": "summed",
            "index": 0,
            "start": 1,
            "end": 4801,
            "status": "scored",
            "reason": "",
            "detail": "",
            "sdr": 0.1 + 0.2,
            "sir": math.inf,
            "pysepm_csii_low": math.nan,
        },
        {
            "key": "b.wav",
            "session": "s",
            "device": "aria",
            "pid": "P1",
            "segment_type": "summed",
            "index": 1,
            "start": 1,
            "end": 2,
            "status": "skipped",
            "reason": "too_short",
            "detail": "x",
        },
    ]
    path = write_table(rows, ["sdr", "sir", "pysepm_csii_low"], tmp_path / "t" / "table.csv")
    back, keys = read_table(path)
    assert keys == ["sdr", "sir", "pysepm_csii_low"]
    assert back[0]["sdr"] == 0.1 + 0.2 and back[0]["sir"] == math.inf and math.isnan(back[0]["pysepm_csii_low"])
    assert "sdr" not in back[1] and back[1]["reason"] == "too_short"
    assert [p.name for p in path.parent.iterdir()] == ["table.csv"]  # no temporary left behind


def test_stats_weight_by_length_over_rows_with_the_key():
    rows = [{"duration": 1, "x": 1.0, "y": 5.0}, {"duration": 3, "x": 2.0}]
    stats = compute_stats(rows, ["x", "y"])
    assert stats["x"]["weighted_mean"] == pytest.approx(1.75)
    assert stats["x"]["mean"] == 1.5 and stats["x"]["std"] == 0.5
    assert stats["x"]["std_err"] == pytest.approx(0.5 / math.sqrt(2))
    assert stats["y"]["count"] == 1 and stats["y"]["weighted_mean"] == 5.0 and math.isnan(stats["y"]["std"])


def _row(session, pid, start, status="scored", reason="", **metrics):
    return {
        "key": f"{session}.aria.{pid}.000.{start}_{start + 16000}.wav",
        "session": session,
        "device": "aria",
        "pid": pid,
        "segment_type": "individual",
        "index": 0,
        "start": start,
        "end": start + 16000,
        "status": status,
        "reason": reason,
        "detail": "",
        **metrics,
    }


def test_tables_and_report_files_are_readable_by_the_team(tmp_path):
    """They were written with mkstemp's 0600: on a shared cluster, teammates could not read the scores."""
    rows = [_row("dev_01", "P2", 480000, stoi=0.5), _row("dev_01", "P3", 500000, stoi=0.7)]
    mask = os.umask(0o022)
    try:
        write_table(rows, ["stoi"], tmp_path / "tables" / "t.csv")
        write_reports(rows, ["stoi"], "dev", tmp_path / "out", devices=("aria",), segment_types=("individual",))
    finally:
        os.umask(mask)
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 11 and {p.stat().st_mode & 0o777 for p in files} == {0o644}
    assert not [p for p in files if p.name.startswith(".")]


class Unwritable:
    def __str__(self) -> str:
        raise RuntimeError("a value that cannot be written")


def test_a_failing_write_leaves_no_temporary_file_and_no_partial_file(tmp_path):
    table = write_table([_row("dev_01", "P2", 480000, stoi=0.5)], ["stoi"], tmp_path / "t.csv")
    before = table.read_bytes()
    rows = [_row("dev_01", "P2", 16000 * i, stoi=0.5) for i in range(2000)] + [
        _row("dev_01", "P3", 0, stoi=Unwritable())
    ]
    with pytest.raises(RuntimeError, match="cannot be written"):
        write_table(rows, ["stoi"], table)  # fails after 2000 rows
    assert table.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["t.csv"]
    out = tmp_path / "out"
    unencodable = _row("dev_01", "P4", 480000, stoi=0.5)
    unencodable["key"] = "dev_01.aria.P4.\ud800.wav"  # fails while its report files are written
    with pytest.raises(UnicodeEncodeError):
        write_reports(
            [_row("dev_01", "P2", 480000, stoi=0.5), unencodable],
            ["stoi"],
            "dev",
            out,
            devices=("aria",),
            segment_types=("individual",),
        )
    for path in out.iterdir():
        assert not path.name.startswith("."), path
        if path.suffix == ".json":
            json.loads(path.read_text())  # what is there is whole


def test_reports_levels_and_the_30s_rule(tmp_path):
    rows = [
        _row("dev_01", "P2", 480000, stoi=0.5),
        _row("dev_01", "P3", 1000, stoi=0.9),
        _row("dev_02", "P5", 500000, "skipped", "constant_ref"),
    ]
    summary = write_reports(
        rows, ["stoi"], "dev", tmp_path, devices=("aria", "ha"), segment_types=("individual",), earliest_start_s=30.0
    )
    names = sorted(p.name for p in tmp_path.glob("report.*.json"))
    assert names == [
        "report.dev.aria.individual._._.json",
        "report.dev.aria.individual.dev_01.P2.json",
        "report.dev.aria.individual.dev_01._.json",
        "report.dev.ha.individual._._.json",
    ]
    device = json.loads((tmp_path / "report.dev.aria.individual._._.json").read_text())
    assert list(device) == ["stoi", "duration", "start_time"]
    assert device["stoi"]["count"] == 1 and device["stoi"]["weighted_mean"] == 0.5
    empty = json.loads((tmp_path / "report.dev.ha.individual._._.json").read_text())
    assert empty["stoi"]["count"] == 0 and math.isnan(empty["stoi"]["mean"])
    csv_text = (tmp_path / "report.dev.aria.individual._._.csv").read_text().splitlines()
    assert csv_text[0] == "key,stoi,duration,start_time" and len(csv_text) == 2
    level = summary["levels"]["aria.individual._._"]
    assert level["kept"] == 1 and level["skipped"]["before_30s"] == 1 and level["skipped"]["constant_ref"] == 1


def test_evaluate_folder_on_a_small_dataset(tmp_path, caplog):
    root, sub = tmp_path / "data", tmp_path / "sub"
    (root / "metadata" / "ref" / "dev").mkdir(parents=True)
    (root / "ref" / "dev").mkdir(parents=True)
    sub.mkdir()
    (root / "metadata" / "sessions.dev.csv").write_text(
        "session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\ndev_01,1,,P1,P2,P3,P4\n"
    )
    n = 40000
    for i, pid in enumerate(("P2", "P3", "P4")):
        ref = tone(n, 200 + 100 * i)
        sf.write(root / "ref" / "dev" / f"dev_01.aria.{pid}.wav", ref, FS, subtype="PCM_16")
        (root / "metadata" / "ref" / "dev" / f"dev_01.aria.{pid}.csv").write_text(
            f"0,{1000 + i},{9000 + i}\n1,20000,30000\n"
        )
        if pid != "P4":
            sf.write(sub / f"dev_01.aria.{pid}.wav", 0.8 * ref, FS, subtype="PCM_16")
    with caplog.at_level(logging.WARNING):
        summary = evaluate_folder(root, sub, "dev", tmp_path / "out", metrics=["stoi"], earliest_start_s=0.0)
    assert "dev_01.aria.P4" in caplog.text
    assert summary["levels"]["aria.individual._._"]["kept"] == 4
    assert "aria.summed._._" not in summary["levels"] or summary["levels"]["aria.summed._._"]["kept"] == 0
    report = json.loads((tmp_path / "out" / "report.dev.aria.individual._._.json").read_text())
    assert report["stoi"]["count"] == 4 and report["stoi"]["min"] > 0.99


def test_comparison_pairs_segments_by_key_and_leaves_out_the_unpaired(tmp_path):
    """The improvement is the mean difference over the segments both systems
    scored (a segment one of them skipped, or a NaN difference, does not count)."""
    from enhancement.evaluation.jobs import compare_systems, segment_scores

    def row(key, device, stype, start, si_snr, status="scored"):
        return {
            "key": key,
            "session": "s1",
            "device": device,
            "pid": "P1",
            "segment_type": stype,
            "index": 0,
            "start": start,
            "end": start + 48000,
            "status": status,
            "reason": "",
            "detail": "",
            **({"si_snr": si_snr, "sdr": si_snr / 2} if status == "scored" else {}),
        }

    early = 31 * FS
    reference = [
        row("a", "aria", "individual", early, 1.0),
        row("b", "aria", "individual", early, 3.0),
        row("c", "aria", "individual", early, 0.0, "skipped"),
        row("d", "ha", "individual", early, 2.0),
        row("a", "aria", "summed", early, 5.0),
    ]
    ours = [
        row("a", "aria", "individual", early, 3.0),
        row("b", "aria", "individual", early, 7.0),
        row("c", "aria", "individual", early, 50.0),  # the reference skipped it: not paired
        row("e", "aria", "individual", early, 90.0),  # only ours has it: not paired
        row("d", "ha", "individual", early, math.nan),
        row("a", "aria", "summed", early, 4.0),
    ]
    systems = {}
    for name, rows in {"ref": reference, "ours": ours}.items():
        table = write_table(rows, ["si_snr", "sdr"], tmp_path / name / "tables" / "t.csv")
        write_reports(rows, ["si_snr", "sdr"], "dev", tmp_path / name, devices=("aria", "ha"))
        systems[name] = (tmp_path / name, [table])

    table = compare_systems(systems, "dev", ["aria", "ha"], "ref", segment_scores(systems))
    got = table.set_index(["system", "device", "segment_type"]).sort_index()
    assert got.loc[("ours", "aria", "individual"), "si_snr_improvement"] == pytest.approx(3.0)  # (2 + 4) / 2
    assert got.loc[("ours", "aria", "individual"), "sdr_improvement"] == pytest.approx(1.5)
    assert got.loc[("ours", "aria", "summed"), "si_snr_improvement"] == pytest.approx(-1.0)
    assert math.isnan(got.loc[("ours", "ha", "individual"), "si_snr_improvement"])  # its only pair is NaN
    assert math.isnan(got.loc[("ours", "ha", "summed"), "si_snr_improvement"])  # nothing scored
    assert (got.loc["ref", "si_snr_improvement"].dropna() == 0).all()
    assert got.loc[("ours", "aria", "individual"), "segments"] == 4  # the official count: every scored one
    assert list(table.system) == ["ref"] * 4 + ["ours"] * 4  # the systems' order, rows not reshuffled
    assert table.equals(compare_systems(systems, "dev", ["aria", "ha"], "ref"))  # reads the scores itself too


# ---- evaluation inputs checked like raw inputs (issue 20) ----------------------------------


def small_dataset(root, dataset="dev", n=40000, sub=None):
    """One aria session (partners P2-P4) with references, lists and, in ``sub``, a submission."""
    (root / "metadata" / "ref" / dataset).mkdir(parents=True, exist_ok=True)
    (root / "ref" / dataset).mkdir(parents=True, exist_ok=True)
    (root / "metadata" / f"sessions.{dataset}.csv").write_text(
        f"session,aria_pos,ha_pos,pos1,pos2,pos3,pos4\n{dataset}_01,1,,P1,P2,P3,P4\n"
    )
    for i, pid in enumerate(("P2", "P3", "P4")):
        ref = tone(n, 200 + 100 * i)
        sf.write(root / "ref" / dataset / f"{dataset}_01.aria.{pid}.wav", ref, FS, subtype="PCM_16")
        (root / "metadata" / "ref" / dataset / f"{dataset}_01.aria.{pid}.csv").write_text(
            f"0,{1000 + i},{9000 + i}\n1,20000,30000\n"
        )
        if sub is not None:
            sub.mkdir(parents=True, exist_ok=True)
            sf.write(sub / f"{dataset}_01.aria.{pid}.wav", 0.8 * ref, FS, subtype="PCM_16")
    return root


def partner_files(root, sub, pid, dataset="dev", **files) -> PartnerFiles:
    """What a scoring job of ``small_dataset``'s session reads for one partner (``files`` replace some)."""
    target = Target(dataset, f"{dataset}_01", "aria", pid)
    return PartnerFiles(
        target,
        files.get("submission", sub / f"{target.stem}.wav"),
        files.get("reference", target.in_data_root(root, REFERENCE)),
        files.get("segments", target.in_data_root(root, SEGMENTS)),
    )


def test_a_partner_without_reference_is_not_scored_nor_the_sums_the_others_are(tmp_path, caplog):
    """In the workflow, a reference missing from data_root is no input of the job (None)."""
    root, sub = small_dataset(tmp_path / "data", sub=tmp_path / "sub"), tmp_path / "sub"
    partners = [
        partner_files(root, sub, "P2"),
        partner_files(root, sub, "P3", reference=None),
        partner_files(root, sub, "P4"),
    ]
    with caplog.at_level(logging.WARNING):
        individual, summed = score_session_device(partners, SegmentScorer(["stoi"]), earliest_start_s=0.0)
    assert "dev_01.aria.P3 is not scored: its reference is missing" in caplog.text
    assert "dev_01.aria summed is not scored: its reference is missing" in caplog.text
    assert [r["pid"] for r in individual] == ["P2", "P2", "P4", "P4"] and summed == []
    assert {r["status"] for r in individual} == {"scored"}


def test_stored_audio_reads_a_segment_of_the_files_summed_as_reading_them_whole(tmp_path):
    """A job holds no whole signal (a 36-minute file is 276 MB as float64): each
    segment is read from the files, zero-padded to the longest, summed in order."""
    from enhancement.evaluation.scoring import StoredAudio

    a = np.concatenate([tone(1000), [-1.0, 32767 / 32768]])
    b = tone(700, f=500.0) * 0.5
    sf.write(tmp_path / "a.wav", a, FS, subtype="PCM_16")
    sf.write(tmp_path / "b.wav", b, FS, subtype="FLOAT")
    one = StoredAudio.of(tmp_path / "a.wav", "reference")
    whole_a = sf.read(tmp_path / "a.wav")[0]
    assert len(one) == len(a) and np.array_equal(one[0 : len(a)], whole_a)
    both = StoredAudio.summed([one, StoredAudio.of(tmp_path / "b.wav", "reference")])
    padded_b = np.zeros(len(a))
    padded_b[: len(b)] = sf.read(tmp_path / "b.wav")[0]
    expected = whole_a + padded_b
    for start, end in [(0, 10), (len(b) - 5, len(b) + 5), (len(b) + 3, len(a)), (len(a) - 2, len(a) + 50)]:
        got = both[start:end]
        assert got.dtype == np.float64 and np.array_equal(got, expected[start:end]), (start, end)
        got[:] = 9.0  # the caller's copy: reading the same segment again gives the samples
        assert np.array_equal(both[start:end], expected[start:end]), (start, end)
    assert len(both) == len(a)


def test_summed_segments_cut_the_sums_of_every_partner(tmp_path):
    root, sub = small_dataset(tmp_path / "data", sub=tmp_path / "sub"), tmp_path / "sub"
    partners = [partner_files(root, sub, pid) for pid in ("P2", "P3", "P4")]
    individual, summed = score_session_device(partners, SegmentScorer(["stoi"]), earliest_start_s=0.0)
    assert [r["key"] for r in summed] == [r["key"] for r in individual]  # each partner's own list
    assert {r["segment_type"] for r in summed} == {"summed"} and {r["status"] for r in summed} == {"scored"}
    refs = [sf.read(root / f"ref/dev/dev_01.aria.{pid}.wav")[0] for pid in ("P2", "P3", "P4")]
    ests = [sf.read(sub / f"dev_01.aria.{pid}.wav")[0] for pid in ("P2", "P3", "P4")]
    ref, est = sum(refs), sum(ests)
    row = summed[-1]
    expected = SegmentScorer(["stoi"]).score(
        pcm16_round_trip(est[row["start"] : row["end"]]), pcm16_round_trip(ref[row["start"] : row["end"]])
    )
    assert row["stoi"] == expected["stoi"]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", ["reference", "submission"])
def test_non_finite_samples_are_an_error_naming_the_file_and_the_time(tmp_path, bad, where):
    """One NaN inside a scored segment gave a row with stoi 1e-05, pesq 0 and NaN dB."""
    root, sub = small_dataset(tmp_path / "data", sub=tmp_path / "sub"), tmp_path / "sub"
    path = (root / "ref" / "dev" if where == "reference" else sub) / "dev_01.aria.P3.wav"
    x = sf.read(path)[0]
    x[25000] = bad  # inside segment 1 (20000-30000), at 1.5625 s
    sf.write(path, x, FS, subtype="FLOAT")
    with pytest.raises(ValueError, match=rf"{path}: .*NaN or Inf samples \(the first at frame 25000, 1.562 s in"):
        score_session_device([partner_files(root, sub, "P3")], SegmentScorer(["stoi"]), earliest_start_s=0.0)
    with pytest.raises(ValueError, match=rf"{path}: .*NaN or Inf samples"):
        evaluate_folder(root, sub, "dev", tmp_path / "out", metrics=["stoi"], earliest_start_s=0.0)


EMPTY_INPUTS = {
    "reference with 0 frames": ("ref/dev/dev_01.aria.P3.wav", "has no audio (0 frames)"),
    "reference of 0 bytes": ("ref/dev/dev_01.aria.P3.wav", "is empty (0 bytes)"),
    "segment list of 0 bytes": ("metadata/ref/dev/dev_01.aria.P3.csv", "is empty (0 bytes)"),
    "segment list with a header only": ("metadata/ref/dev/dev_01.aria.P3.csv", "lists no segment"),
}


@pytest.mark.parametrize("case", EMPTY_INPUTS)
def test_empty_reference_or_segment_list_is_named_and_not_scored_like_a_missing_one(tmp_path, case, caplog):
    """Before: all-skipped levels and NaN means with exit 0, or a raw soundfile error."""
    from enhancement.evaluation.jobs import report_job, score_job

    root, sub = small_dataset(tmp_path / "data", sub=tmp_path / "sub"), tmp_path / "sub"
    relative, says = EMPTY_INPUTS[case]
    path = root / relative
    if case == "reference with 0 frames":
        sf.write(path, np.zeros(0), FS, subtype="PCM_16")
    elif case == "segment list with a header only":
        path.write_text("index,start,end\n")
    else:
        path.write_bytes(b"")
    tables = tmp_path / "tables"
    with caplog.at_level(logging.WARNING):
        score_job(
            [partner_files(root, sub, pid) for pid in ("P2", "P3", "P4")],
            tables / "individual.csv",
            tables / "summed.csv",
            ["stoi"],
            0.0,
        )
    assert f"dev_01.aria.P3 is not scored: {path} {says}" in caplog.text
    assert f"dev_01.aria summed is not scored: {path} {says}" in caplog.text
    individual = read_table(tables / "individual.csv")[0]
    assert read_table(tables / "summed.csv")[0] == []
    assert [r["pid"] for r in individual] == ["P2", "P2", "P4", "P4"]  # the others are scored
    summary = report_job(sorted(tables.glob("*.csv")), "dev", tmp_path / "out", ["aria"], 0.0, ["stoi"])
    assert summary["levels"]["aria.individual._._"] == {
        "segments": 4,
        "kept": 4,
        "skipped": {"past_end": 0, "before_0s": 0, "too_short": 0, "constant_ref": 0, "metric_failed": 0},
    }
    assert (
        "aria summed (dev): no segment was scored (no file of it was scored); its report files hold count 0 "
        "and NaN statistics, which are no score"
    ) in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        evaluate_folder(root, sub, "dev", tmp_path / "folder", metrics=["stoi"], earliest_start_s=0.0)
    assert f"dev_01.aria.P3 is not scored: {path} {says}" in caplog.text


def test_earliest_start_past_every_segment_is_an_error_naming_the_value(tmp_path):
    rows = [_row("dev_01", "P2", 480000, stoi=0.5), _row("dev_01", "P3", 500000, "skipped", "constant_ref")]
    with pytest.raises(
        ValueError,
        match=r"evaluation_earliest_start_s is 1000000 s, past every segment of aria "
        r"individual in dev \(2 segment\(s\), the last starting at 31.250 s\): "
        r"nothing would be scored",
    ):
        write_reports(
            rows, ["stoi"], "dev", tmp_path, devices=("aria",), segment_types=("individual",), earliest_start_s=1e6
        )
    assert not list(tmp_path.iterdir())  # no report written that looks like a result


def test_a_level_with_nothing_scored_is_a_warning_saying_why(tmp_path, caplog):
    rows = [
        _row("dev_01", "P2", 480000, "skipped", "past_end"),
        _row("dev_01", "P3", 500000, "skipped", "past_end"),
        _row("dev_01", "P4", 1000, stoi=0.5),
    ]
    with caplog.at_level(logging.WARNING):
        write_reports(rows, ["stoi"], "dev", tmp_path, devices=("aria",), segment_types=("individual",))
    assert (
        "aria individual (dev): no segment was scored (3 segment(s) skipped: 1 before_30s, 2 past_end); its "
        "report files hold count 0 and NaN statistics, which are no score"
    ) in caplog.text


def test_the_skip_reason_names_the_configured_earliest_start(tmp_path):
    ref, est = tone(40000), tone(40000, amp=0.1)
    rows = score_segments(
        Target("dev", "dev_01", "aria", "P2"),
        "individual",
        [Segment(0, 1000, 9000), Segment(1, 20000, 30000)],
        ref,
        est,
        SegmentScorer(["stoi"]),
        earliest_start_s=0.5,
    )
    assert [r["reason"] for r in rows] == ["before_0.5s", ""]
    assert rows[0]["detail"] == "start 1000 < earliest start 8000"
    summary = write_reports(
        [_row("dev_01", "P2", 1000, stoi=0.5), _row("dev_01", "P2", 480000, stoi=0.4)],
        ["stoi"],
        "dev",
        tmp_path,
        devices=("aria",),
        segment_types=("individual",),
        earliest_start_s=10,
    )
    assert summary["levels"]["aria.individual._._"]["skipped"]["before_10s"] == 1
    rows = read_table_rows(tmp_path / "segments.dev.aria.individual.csv")
    assert [r["reason"] for r in rows] == ["before_10s", ""]


def read_table_rows(path):
    import csv

    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_duplicated_segment_rows_are_scored_once_with_a_warning_naming_the_file(tmp_path, caplog):
    path = tmp_path / "s.csv"
    path.write_text("0,480000,529583\n1,600000,620000\n0,480000,529583\n1,600000,620000\n2,700000,720000\n")
    with caplog.at_level(logging.WARNING):
        segs = read_segments(path)
    assert segs == [Segment(0, 480000, 529583), Segment(1, 600000, 620000), Segment(2, 700000, 720000)]
    assert f"{path}: rows 3, 4 repeat rows 1, 2; each segment is scored once" in caplog.text


@pytest.mark.parametrize(
    ("row", "says"),
    [
        ("3,-16000,16000", "start -16000 is negative"),
        ("3,20000,16000", "end 16000 is not after start 20000"),
        ("3,16000,16000", "end 16000 is not after start 16000"),
    ],
)
def test_negative_or_reversed_segment_rows_are_errors_naming_the_file_and_row(tmp_path, row, says):
    """Before: skipped as before_30s or too_short, which they are not."""
    path = tmp_path / "s.csv"
    path.write_text(f"0,480000,529583\n{row}\n")
    shown = re.escape(str(row.split(",")))
    with pytest.raises(ValueError, match=rf"{path}:2: {says} \(row {shown}\); fix the segment list"):
        read_segments(path)
