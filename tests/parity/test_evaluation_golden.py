"""The official ECHI numbers: every value of every golden report file, and the same segments.

Against ``tests/data/eval_fixture`` (its README.md says what it holds): a
two-session dev set whose ``golden/`` and ``golden_no_30s/`` folders hold what
the official evaluation code wrote. The submission is scored once, by
run_evaluation.py with the 30-s rule off; the reports are those it wrote, and
those written from the same rows with the rule on.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from conftest import REPO

from enhancement.evaluation import read_table, write_reports
from enhancement.evaluation.metrics import metric_keys, resolve_metrics

FIXTURE = REPO / "tests" / "data" / "eval_fixture"

# the full metric set on the whole fixture, scored once (one xdist worker runs the module)
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("golden")]

ABS_DB = {"si_snr", "ci_sdr", "sdr", "sar"}


def close(key: str, ours: float, gold: float) -> bool:
    """The issue's tolerances: 1e-6 relative; 1e-4 for dns_*; 1e-5 dB for the SDR family."""
    if isinstance(gold, float) and math.isnan(gold):
        return isinstance(ours, float) and math.isnan(ours)
    if gold in (math.inf, -math.inf) or ours in (math.inf, -math.inf):
        return ours == gold
    return abs(ours - gold) <= _value_tolerance(key, gold)


def _value_tolerance(key: str, gold: float) -> float:
    if key in ABS_DB:
        return 1e-5
    return (1e-4 if key.startswith("dns_") else 1e-6) * max(abs(gold), 1e-12)


def stat_close(key: str, stat: str, ours: float, gold: float, gstats: dict) -> bool:
    """A spread statistic is held to what its values' tolerance allows, not to its own size.

    Moving each of n values by at most t moves their sample standard deviation by at
    most t*sqrt(n/(n-1)) and its standard error by t/sqrt(n-1). Two DNSMOS scores a few
    float32 steps apart (dev_22 P205: 2.52610 and 2.52663) have a std of 2.7e-4 that a
    1.2e-7 change of one score (half a float32 step) moves by 5e-4 of itself.
    """
    if stat == "count":
        return ours == gold
    if (
        stat not in ("std", "std_err")
        or gstats["count"] < 2
        or not all(map(math.isfinite, (ours, gold, gstats["min"], gstats["max"])))
    ):
        return close(key, ours, gold)
    n = gstats["count"]
    t = max(_value_tolerance(key, gstats["min"]), _value_tolerance(key, gstats["max"]))
    bound = t * math.sqrt(n / (n - 1)) if stat == "std" else t / math.sqrt(n - 1)
    return abs(ours - gold) <= max(bound, _value_tolerance(key, gold))


@pytest.fixture(scope="module")
def run_evaluation(tmp_path_factory) -> tuple[Path, str]:
    """The fixture folder scored the whole way a user scores a folder made
    elsewhere: run_evaluation.py (upstream's spelling of the keys), with the
    30-s rule off, so that every segment is scored once for both golden sets."""
    import subprocess
    import sys

    workdir = tmp_path_factory.mktemp("run_evaluation")
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_evaluation.py"),
            f"data_root={FIXTURE}",
            f"paths.enhancement_output_dir={FIXTURE / 'submission'}",
            "shared.exp_name=fixture",
            "evaluation_earliest_start_s=0",
            "--",
            "--directory",
            str(workdir),
            "--cores",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=workdir,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return workdir / "work/evaluation/fixture/dev", result.stdout + result.stderr


@pytest.fixture(scope="module")
def scored(run_evaluation) -> tuple[Path, list[dict], list[str]]:
    out, _ = run_evaluation
    rows: list[dict] = []
    keys: list[str] = []
    for table in sorted((out / "tables").glob("*/*.csv")):  # tables/{individual,summed}/{session}.{device}.csv
        part, keys = read_table(table)
        rows += part
    return out, rows, keys


@pytest.fixture(scope="module")
def reports(scored, tmp_path_factory) -> dict[str, Path]:
    """golden_no_30s: the workflow's own report files; golden: the same rows
    reported with the 30-s rule on."""
    out, rows, keys = scored
    with_rule = tmp_path_factory.mktemp("eval") / "golden"
    write_reports(rows, keys, "dev", with_rule, earliest_start_s=30.0, metric_set="full")
    return {"golden": with_rule, "golden_no_30s": out}


def _gold_files(name: str) -> list[Path]:
    return sorted((FIXTURE / name).glob("report.*.json"))


def test_the_inputs_are_those_the_golden_files_belong_to():
    """The official numbers hold for these exact files (fixture.json's sha256 of each)."""
    import hashlib

    recorded = json.loads((FIXTURE / "fixture.json").read_text())["sha256"]
    inputs = sorted(
        str(p.relative_to(FIXTURE))
        for part in ("metadata", "ref", "submission")
        for p in (FIXTURE / part).rglob("*")
        if p.is_file()
    )
    assert inputs == sorted(recorded)
    changed = [name for name in inputs if hashlib.sha256((FIXTURE / name).read_bytes()).hexdigest() != recorded[name]]
    assert not changed, changed


@pytest.mark.parametrize("golden", ["golden", "golden_no_30s"])
def test_same_report_files(reports, golden):
    ours = {p.name for p in reports[golden].glob("report.*")}
    gold = {p.name for p in (FIXTURE / golden).glob("report.*")}
    assert ours == gold


@pytest.mark.parametrize("golden", ["golden", "golden_no_30s"])
def test_every_json_value(reports, golden):
    bad = []
    assert _gold_files(golden), f"no report files in {FIXTURE / golden}"
    for gpath in _gold_files(golden):
        gold = json.loads(gpath.read_text())
        ours = json.loads((reports[golden] / gpath.name).read_text())
        assert list(ours) == list(gold), gpath.name
        for key, gstats in gold.items():
            assert list(ours[key]) == list(gstats), (gpath.name, key)
            for stat, gval in gstats.items():
                if not stat_close(key, stat, ours[key][stat], gval, gstats):
                    bad.append((gpath.name, key, stat, ours[key][stat], gval))
    assert not bad, bad[:20]


@pytest.mark.parametrize("golden", ["golden", "golden_no_30s"])
def test_every_csv_row(reports, golden):
    bad = []
    for gpath in sorted((FIXTURE / golden).glob("report.*.csv")):
        with open(gpath, newline="") as f:
            gold = list(csv.DictReader(f))
        with open(reports[golden] / gpath.name, newline="") as f:
            ours = list(csv.DictReader(f))
        assert [r["key"] for r in ours] == sorted(r["key"] for r in gold), gpath.name
        gold_by_key = {r["key"]: r for r in gold}
        for row in ours:
            g = gold_by_key[row["key"]]
            assert list(row) == list(g), gpath.name
            for col, gval in g.items():
                if col == "key":
                    continue
                if not close(col, float(row[col]), float(gval)):
                    bad.append((gpath.name, row["key"], col, row[col], gval))
    assert not bad, bad[:20]


@pytest.mark.parametrize("golden", ["golden", "golden_no_30s"])
def test_same_skipped_segments(reports, golden):
    with open(FIXTURE / golden / "dropped_segments.csv", newline="") as f:
        gold = {(r["segment_type"], r["device"], r["key"], r["reason_code"]) for r in csv.DictReader(f)}
    ours = set()
    for path in reports[golden].glob("segments.dev.*.csv"):
        with open(path, newline="") as f:
            ours |= {
                (r["segment_type"], r["device"], r["key"], r["reason"])
                for r in csv.DictReader(f)
                if r["status"] == "skipped"
            }
    assert ours == gold


def test_summary_counts_and_not_computed(reports):
    summary = json.loads((reports["golden"] / "summary.dev.json").read_text())
    level = summary["levels"]["aria.individual._._"]
    assert level["kept"] == 21
    assert level["skipped"] == {"past_end": 1, "before_30s": 11, "too_short": 1, "constant_ref": 0, "metric_failed": 1}
    assert summary["levels"]["ha.individual.dev_21.P204"]["skipped"]["constant_ref"] == 1
    assert "utmos" in summary["not_computed"]
    assert summary["metric_keys"] == metric_keys(resolve_metrics("full"))


def test_run_evaluation_scores_the_fixture_folder_as_the_official_code(run_evaluation):
    """The folder validated first, then every report file of golden_no_30s/ at
    {work_dir}/evaluation/NAME/dev (its values: test_every_json_value)."""
    out, text = run_evaluation
    # every rule the Snakefile's localrules names exists when scoring a folder (no submission_file)
    assert "localrules directive specifies rules that are not present" not in text
    with open(out / "validation.csv", newline="") as f:
        validation = list(csv.DictReader(f))
    assert len(validation) == 9 and {r["status"] for r in validation} == {"ok"}
    assert {p.name for p in out.glob("report.*")} == {p.name for p in (FIXTURE / "golden_no_30s").glob("report.*")}
    assert "dev: fixture, official weighted means" in text  # the run ends with its headline
