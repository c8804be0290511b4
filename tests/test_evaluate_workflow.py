"""The real workflow's scores, comparison and report on the demo data."""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import Snakemake

from enhancement.demo import demo_sessions
from enhancement.manifest import targets_of

pytestmark = pytest.mark.slow

TARGETS = targets_of(demo_sessions(), ["aria", "ha"], on_skip=lambda _: None)
STEMS = [f"{t.session}.{t.device}.{t.pid}" for t in TARGETS]


def segment_lists(workdir: Path) -> dict[str, list[list[int]]]:
    folder = workdir / "demo_data/metadata/ref/dev"
    return {stem: [[int(v) for v in row] for row in csv.reader(open(folder / f"{stem}.csv"))] for stem in STEMS}


def read_metrics(workdir: Path, system: str, table: str = "metrics") -> pd.DataFrame:
    return pd.read_csv(workdir / f"work/enhanced/{system}/dev/{table}.csv", dtype={"note": str})


@pytest.fixture(scope="module")
def compared(tmp_path_factory, passthrough_run) -> Snakemake:
    """The passthrough run, then example on top, then the report."""
    workdir = tmp_path_factory.mktemp("compared") / "run"
    shutil.copytree(passthrough_run, workdir, symlinks=True)
    run = Snakemake(workdir)
    run("--config", "enhancement_name=example")
    run("--config", "enhancement_name=example", "--report", "report.html")
    return run


def test_default_run_scores_every_segment_of_every_file(passthrough_run):
    scores = read_metrics(passthrough_run, "passthrough")
    lists = segment_lists(passthrough_run)
    # one row per file and segment, named by the system
    expected = sorted((stem, index, start, end) for stem, rows in lists.items() for index, start, end in rows)
    got = sorted(zip(scores.session + "." + scores.device + "." + scores.pid, scores.segment, scores.start, scores.end))
    assert got == expected and len(got) >= len(STEMS)
    assert set(scores.system) == {"passthrough"} and set(scores.dataset) == {"dev"}
    assert set(scores.status) == {"ok"}
    assert scores.si_sdr.between(-20, 60).all() and scores.stoi.between(0, 1).all()
    assert scores.pesq.between(1.0, 4.65).all()

    # the stored SI-SDR is the formula's on the very samples
    row = scores.iloc[0]
    stem = f"{row.session}.{row.device}.{row.pid}"
    s = sf.read(passthrough_run / f"demo_data/ref/dev/{stem}.wav")[0][row.start:row.end]
    x = sf.read(passthrough_run / f"work/enhanced/passthrough/dev/{stem}.wav")[0][row.start:row.end]
    s, x = s - s.mean(), x - x.mean()
    target = (x @ s) / (s @ s) * s
    assert row.si_sdr == pytest.approx(10 * np.log10((target @ target) / ((x - target) @ (x - target))), abs=1e-3)

    by_file = read_metrics(passthrough_run, "passthrough", "metrics_by_file")
    assert len(by_file) == len(STEMS) and (by_file.segments == by_file.scored).all()
    by_device = read_metrics(passthrough_run, "passthrough", "metrics_by_device").set_index("device")
    assert list(by_device.index) == ["aria", "ha", "all"]
    assert by_device.files.tolist() == [6, 3, 9]
    assert by_device.loc["all", "segments"] == len(scores) == by_device.segments[:2].sum()
    assert by_device.loc["all", "si_sdr"] == pytest.approx(scores.si_sdr.mean(), abs=1e-3)
    assert "segments scored" in (passthrough_run / "work/logs/evaluate/passthrough/dev.log").read_text()


def test_comparison_of_passthrough_and_example(compared):
    table = pd.read_csv(compared.workdir / "work/enhanced/comparison.dev.csv")
    assert table[["system", "device"]].values.tolist() == [
        [system, device] for system in ("passthrough", "example") for device in ("aria", "ha", "all")]
    # example's plugin is passthrough: the same scores, no improvement
    assert np.allclose(table.si_sdr[:3], table.si_sdr[3:])
    for metric in ("si_sdr", "stoi", "pesq"):
        assert np.allclose(table[f"{metric}_improvement"], 0, atol=1e-4)
    assert set(read_metrics(compared.workdir, "example").system) == {"example"}


def test_report_has_every_table_and_figure(compared):
    text = (compared.workdir / "report.html").read_text()
    results = json.loads(re.search(r'<script id="results">\s*var results = (.*);\s*</script>', text).group(1))
    categories = json.loads(re.search(r'<script id="categories">\s*var categories = (.*);\s*</script>', text)
                            .group(1))
    expected = {
        "work/report/example/dev/validation.html",
        "work/report/comparison.dev.html",
        "work/report/distributions.dev.png",
        *(f"work/report/example/dev/spectrograms/{stem}.png" for stem in STEMS),
        *(f"work/enhanced/{s}/dev/metrics.csv" for s in ("passthrough", "example")),
        *(f"work/report/{s}/dev/metrics_by_{t}.html" for s in ("passthrough", "example") for t in ("file", "device")),
    }
    assert set(results) == expected
    assert set(categories) == {"Submission", "Scores", "Comparison", "Spectrograms"}
    for path, entry in results.items():
        assert entry["caption"].strip(), f"{path} has no caption"
        mime = {".png": "image/png", ".html": "text/html", ".csv": "text/csv"}[Path(path).suffix]
        assert entry["mime_type"] == mime and entry["data_uri"].startswith(f"data:{mime}")
    spectrogram = results["work/report/example/dev/spectrograms/dev_02.aria.P302.png"]
    assert spectrogram["labels"] == {"session": "dev_02", "device": "aria", "partner": "P302"}
    assert "clean speech at the device" in spectrogram["caption"]
    assert "passthrough, example" in results["work/report/comparison.dev.html"]["caption"]
    assert "speech segments with SI-SDR, STOI and wideband PESQ" in text  # the workflow description


def test_a_segment_past_the_end_is_reported_not_dropped(finished):
    stem = "dev_03.aria.P305"
    segments = finished.workdir / f"demo_data/metadata/ref/dev/{stem}.csv"
    length = sf.info(finished.workdir / f"demo_data/ref/dev/{stem}.wav").frames
    with open(segments, "a") as handle:
        handle.write(f"99,{length - 8000},{length + 8000}\n")
    assert finished.planned_jobs() == {"evaluate_file": 1, "metrics_tables": 1, "compare_systems": 1, "all": 1}
    result = finished()
    scores = read_metrics(finished.workdir, "passthrough")
    past = scores[scores.segment == 99]
    assert len(past) == 1 and past.status.item() == "past_end" and np.isnan(past.si_sdr.item())
    assert f"ends at {length + 8000}" in past.note.item()
    assert read_metrics(finished.workdir, "passthrough", "metrics_by_device").past_end.tolist() == [1, 0, 1]
    assert "segment 99 ends at" in (finished.workdir / f"work/logs/evaluate/passthrough/dev/{stem}.log").read_text()
    assert "past the end" in result.stderr + result.stdout


def test_report_spectrograms_are_capped_and_spread_over_devices(snakemake):
    result = snakemake("--dry-run", "--config", "report_spectrograms=2")
    planned = re.findall(r"spectrograms/(\S+)\.png", result.stdout)
    assert sorted(set(planned)) == ["dev_02.aria.P302", "dev_02.ha.P301"]
    assert snakemake.planned_jobs("--config", "report_spectrograms=0").get("spectrogram", 0) == 0


def test_scoring_can_be_turned_off(snakemake):
    planned = snakemake.planned_jobs("--config", "evaluate_datasets=[]")
    assert not {"evaluate_file", "metrics_tables", "compare_systems"} & set(planned)
    assert planned["spectrogram"] == 9 and planned["validation_table"] == 1
