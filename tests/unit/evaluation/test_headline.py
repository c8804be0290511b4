"""Which systems the comparison shows, and the numbers a scoring run ends with."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from enhancement.evaluation.headline import headline_text, higher_is_better, run_summary
from enhancement.evaluation.inputs import absent_note, compared_systems


def test_by_default_every_system_of_the_work_folder_is_compared_passthrough_first():
    shown, absent = compared_systems([], ["zeta", "baseline", "passthrough", "mine"], "mine")
    assert shown == ["passthrough", "baseline", "mine", "zeta"] and absent == []
    # without passthrough the reference is the first by name; the configured system is always there
    assert compared_systems([], ["zeta"], "new") == (["new", "zeta"], [])


def test_compare_systems_narrows_and_orders_and_names_the_missing():
    shown, absent = compared_systems(["baseline", "ghost", "passthrough"], ["passthrough", "baseline", "other"], "mine")
    assert shown == ["baseline", "passthrough", "mine"] and absent == ["ghost"]
    note = absent_note("dev", absent)
    assert "ghost" in note and "enhancement_name=ghost" in note and "run_evaluation.py" in note


def write_comparison(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def row(system: str, device: str, stype: str, pesq: float, gain: float | str) -> dict:
    return {
        "system": system,
        "device": device,
        "segment_type": stype,
        "segments": 7,
        "pesq": pesq,
        "stoi": 0.5,
        "sir": "inf",
        "pesq_improvement": gain,
        "stoi_improvement": "",
    }


def test_the_headline_shows_the_systems_numbers_and_its_gain_over_the_tables_first_system(tmp_path):
    table = write_comparison(
        tmp_path / "c.csv",
        [
            row("passthrough", "aria", "individual", 1.1, 0.0),
            row("mine", "aria", "individual", 1.5, 0.4),
            row("mine", "ha", "summed", 2.25, -0.125),
        ],
    )
    lines = headline_text(table, "mine", "dev")
    assert "mine" in lines[0] and "over passthrough" in lines[0] and "higher is better" in lines[0]
    assert lines[1].split() == ["device", "type", "segments", "pesq", "stoi"]  # sir is no headline key
    assert lines[2].split() == ["aria", "individual", "7", "1.500", "(+0.400)", "0.500"]
    assert lines[3].split() == ["ha", "summed", "7", "2.250", "(-0.125)", "0.500"]


def test_the_reference_system_itself_shows_no_gain_and_a_missing_table_says_nothing(tmp_path):
    table = write_comparison(tmp_path / "c.csv", [row("passthrough", "aria", "individual", 1.1, 0.0)])
    lines = headline_text(table, "passthrough", "dev")
    assert "(" not in lines[2] and "over" not in lines[0]
    summary = run_summary([("dev", table), ("eval", tmp_path / "none.csv")], "passthrough", [tmp_path / "r"])
    assert summary[:3] == lines and any(str(tmp_path / "r") in s for s in summary)
    assert run_summary([("eval", tmp_path / "none.csv")], "passthrough", []) == []


@pytest.mark.parametrize(
    ("key", "higher"), [("pesq", True), ("pysepm_llr", False), ("pysepm_wss_improvement", False), ("sdr", True)]
)
def test_direction_of_each_key(key, higher):
    assert higher_is_better(key) is higher
