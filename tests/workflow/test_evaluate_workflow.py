"""The real workflow's official scores, comparison and report on the demo data."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from conftest import linked_copy, own

from enhancement.data.demo import demo_sessions
from enhancement.data.manifest import targets_of
from enhancement.evaluation import SegmentScorer
from enhancement.evaluation.segments import pcm16_round_trip

pytestmark = pytest.mark.slow

TARGETS = targets_of(demo_sessions(), ["aria", "ha"], on_skip=lambda _: None)
STEMS = [f"{t.session}.{t.device}.{t.pid}" for t in TARGETS]
EVALUATION = "work/evaluation/{system}/dev"


def segment_lists(workdir: Path) -> dict[str, list[list[int]]]:
    folder = workdir / "demo_data/metadata/ref/dev"
    return {stem: [[int(v) for v in row] for row in csv.reader(open(folder / f"{stem}.csv"))] for stem in STEMS}


def segments(workdir: Path, system: str, device: str, segment_type: str = "individual") -> pd.DataFrame:
    path = workdir / EVALUATION.format(system=system) / f"segments.dev.{device}.{segment_type}.csv"
    return pd.read_csv(path, dtype={"reason": str, "detail": str}, keep_default_na=False, na_values=[""])


def device_report(workdir: Path, system: str, device: str, segment_type: str = "individual") -> dict:
    path = workdir / EVALUATION.format(system=system) / f"report.dev.{device}.{segment_type}._._.json"
    return json.loads(path.read_text())


def test_every_segment_is_a_row_kept_or_skipped_with_its_reason(passthrough_run):
    lists = segment_lists(passthrough_run)
    rows = pd.concat([segments(passthrough_run, "passthrough", d) for d in ("aria", "ha")])
    expected = sorted((stem, i, s, e) for stem, rs in lists.items() for i, s, e in rs)
    got = sorted(zip(rows.session + "." + rows.device + "." + rows.pid, rows["index"], rows.start, rows.end))
    assert got == expected
    kept = rows[rows.status == "scored"]
    # the demo is long enough for the 30-s rule to leave most segments scored
    assert len(kept) > len(rows) / 2 and (kept.start >= 480000).all()
    early = rows[rows.start < 480000]
    assert len(early) and set(early.reason) == {"before_30s"}
    assert set(rows.reason.dropna()) <= {"before_30s", "past_end", "too_short", "constant_ref", "metric_failed"}


def test_device_report_is_the_weighted_mean_of_the_kept_segments(compared):
    """On the quick set's scores (the compared run's; the other runs score STOI only)."""
    kept = segments(compared.workdir, "passthrough", "aria").query("status == 'scored'")
    report = device_report(compared.workdir, "passthrough", "aria")
    assert set(report) >= {"pesq", "stoi", "pysepm_fwsegsnr", "pysepm_ncm", "duration"}
    lengths = (kept.end - kept.start).to_numpy(float)
    assert report["pesq"]["count"] == len(kept)
    assert report["pesq"]["weighted_mean"] == pytest.approx(
        np.average(kept.pesq.to_numpy(float), weights=lengths), rel=1e-12
    )
    # a stored score is the metric's on the very samples, cut and PCM_16-rounded as upstream
    row = kept.iloc[0]
    stem = f"{row.session}.{row.device}.{row.pid}"
    ref = sf.read(compared.workdir / f"demo_data/ref/dev/{stem}.wav")[0][row.start : row.end]
    est = sf.read(compared.workdir / f"work/enhanced/passthrough/dev/{stem}.wav")[0][row.start : row.end]
    again = SegmentScorer("quick").score(pcm16_round_trip(est), pcm16_round_trip(ref))
    assert again["stoi"] == pytest.approx(row.stoi, rel=1e-9) and again["pesq"] == pytest.approx(row.pesq, rel=1e-9)


def test_summed_segments_are_scored_per_session_device(passthrough_run):
    summed = segments(passthrough_run, "passthrough", "aria", "summed")
    individual = segments(passthrough_run, "passthrough", "aria")
    assert sorted(summed.key) == sorted(individual.key)  # each partner's own list cuts the sums
    tables = sorted(
        p.name for p in (passthrough_run / EVALUATION.format(system="passthrough") / "tables/summed").iterdir()
    )
    assert tables == ["dev_02.aria.csv", "dev_02.ha.csv", "dev_03.aria.csv"]
    assert device_report(passthrough_run, "passthrough", "aria", "summed")["stoi"]["count"] > 0


def test_comparison_of_passthrough_and_example(compared):
    table = pd.read_csv(compared.workdir / "work/evaluation/comparison.dev.csv")
    assert table[["system", "device", "segment_type"]].values.tolist() == [
        [s, d, t] for s in ("passthrough", "example") for d in ("aria", "ha") for t in ("individual", "summed")
    ]
    # example's plugin is passthrough: the same official numbers, no improvement
    assert np.allclose(table.pesq[:4], table.pesq[4:]) and np.allclose(table.stoi[:4], table.stoi[4:])
    for key in ("pesq", "stoi", "pysepm_fwsegsnr"):
        assert np.allclose(table[f"{key}_improvement"], 0, atol=1e-9)
    report = device_report(compared.workdir, "passthrough", "ha")
    assert table.query(
        "system == 'passthrough' and device == 'ha' and segment_type == 'individual'"
    ).pesq.item() == pytest.approx(report["pesq"]["weighted_mean"])


def report_parts(report: Path) -> tuple[dict, dict, str]:
    """A report's results, categories and landing page (the workflow description)."""
    text = report.read_text()
    results = json.loads(re.search(r'<script id="results">\s*var results = (.*);\s*</script>', text).group(1))
    categories = json.loads(re.search(r'<script id="categories">\s*var categories = (.*);\s*</script>', text).group(1))
    start = text.index("var workflow_desc = ") + len("var workflow_desc = ")
    landing, _ = json.JSONDecoder().raw_decode(text, start)
    return results, categories, landing


def embedded(entry: dict) -> str:
    """The HTML page a report result embeds."""
    import base64

    return base64.b64decode(entry["data_uri"].split(",", 1)[1]).decode()


def listed_sections(landing: str) -> set[str]:
    """The sections the landing page's list names."""
    return set(re.findall(r"<li>(?:<p>)?<strong>(\w+)</strong>:", landing))


def test_report_has_every_table_and_figure(compared):
    results, categories, landing = report_parts(compared.workdir / "report.html")
    expected = {  # named from work_dir, where Snakemake runs
        "report/example/dev/validation.html",
        "report/comparison.dev.html",
        "report/distributions.dev.png",
        *(f"report/example/dev/spectrograms/{stem}.png" for stem in STEMS),
        *(f"report/example/dev/listen/{stem}.html" for stem in STEMS),
        *(f"report/{s}/dev/official.html" for s in ("passthrough", "example")),
    }
    assert set(results) == expected
    assert set(categories) == {"Submission", "Scores", "Comparison", "Spectrograms", "Listen"}
    for path, entry in results.items():
        assert entry["caption"].strip(), f"{path} has no caption"
        mime = {".png": "image/png", ".html": "text/html"}[Path(path).suffix]
        assert entry["mime_type"] == mime and entry["data_uri"].startswith(f"data:{mime}")
    assert "passthrough, example" in results["report/comparison.dev.html"]["caption"]
    assert "official evaluation" in landing  # the workflow description
    # the landing page leads with the headline: both systems, the reference first, keys with their direction
    headline = landing[landing.index('<div class="echi-headline">') : landing.index("</table>")]
    assert landing.index("echi-headline") < landing.index("The enhancement stage")
    assert headline.index('passthrough</span> <span class="echi-ref">(reference)') < headline.index(">example<")
    assert "pesq&nbsp;&#8593;" in headline and headline.count('class="echi-gain echi-same"') == 4 * 4
    assert listed_sections(landing) == set(categories)
    # the comparison: a table per device and segment type, keys as rows
    comparison = embedded(results["report/comparison.dev.html"])
    assert [
        comparison.count(f"<caption>{d}, {t}</caption>") for d in ("aria", "ha") for t in ("individual", "summed")
    ] == [1, 1, 1, 1]
    # the players: the input, the reference and both systems, on the same excerpts (the systems
    # score alike: the first kept segments), each labelled with its time and scores
    page = embedded(results["report/example/dev/listen/dev_02.aria.P302.html"])
    assert page.count("<audio controls") == 3 * 4 and page.count('src="data:audio/flac;base64,') == 3 * 4
    for label in (
        "input: the device&#x27;s channel 0",
        "reference: the partner&#x27;s clean speech",
        "passthrough (reference system)",
        '<td class="echi-label">example</td>',
    ):
        assert page.count(label) == 3, label
    kept = sorted(s for _, s, _ in segment_lists(compared.workdir)["dev_02.aria.P302"] if s >= 480000)
    for n, start in enumerate(kept[:3], 1):
        assert f"<h2>{n}. {start / 16000:.2f} s to " in page
    assert re.search(r"<h2>1\. [^<]*: pesq example [\d.]+, passthrough [\d.]+ \(\+0\.000\)</h2>", page), page[:3000]


def test_a_missing_headline_file_is_left_out_of_the_report(finished):
    """docutils stops on a missing ``.. raw:: :file:`` (and the report with it): the
    landing page includes the headline only where the file is there."""
    finished("--report", "report.html")
    _, _, landing = report_parts(finished.workdir / "report.html")
    assert '<div class="echi-headline">' in landing and "passthrough" in landing
    (finished.workdir / "work/report/headline.dev.html").unlink()
    finished("--report", "again.html")
    _, categories, landing = report_parts(finished.workdir / "again.html")
    assert "echi-headline" not in landing and "The enhancement stage" in landing
    assert listed_sections(landing) == set(categories)


def test_a_segment_past_the_end_is_reported_not_dropped(finished):
    stem = "dev_03.aria.P305"
    lists = finished.workdir / f"demo_data/metadata/ref/dev/{stem}.csv"
    length = sf.info(finished.workdir / f"demo_data/ref/dev/{stem}.wav").frames
    with open(lists, "a") as handle:
        handle.write(f"99,{length - 8000},{length + 8000}\n")
    # its scores, the reports, and the audio players of the session-device's partners (they
    # choose their excerpts from its score table)
    assert finished.planned_jobs() == {"score": 1, "evaluation_reports": 1, "compare_systems": 1, "listen": 3, "all": 1}
    finished()
    rows = segments(finished.workdir, "passthrough", "aria")
    past = rows[(rows["index"] == 99) & (rows.pid == "P305")]
    assert len(past) == 1 and past.reason.item() == "past_end"
    summary = json.loads((finished.workdir / EVALUATION.format(system="passthrough") / "summary.dev.json").read_text())
    assert summary["levels"]["aria.individual.dev_03.P305"]["skipped"]["past_end"] == 1


def test_a_missing_reference_is_named_and_the_submission_still_made(finished, request):
    """A13: no MissingInputException, the file is not scored, everything else is."""
    data = finished.workdir / "data"
    linked_copy(finished.workdir / "demo_data", data)
    (data / "ref/dev/dev_02.aria.P303.wav").unlink()
    result = finished("--config", "data_root=data", "report_spectrograms=0", "--keep-going")
    text = result.stdout + result.stderr
    assert "data/ref/dev/dev_02.aria.P303.wav is missing: dev_02.aria.P303 is not scored" in text
    assert len(list((finished.workdir / "work/enhanced/passthrough/dev").glob("*.wav"))) == 9
    rows = segments(finished.workdir, "passthrough", "aria")
    assert "P303" not in set(rows[rows.session == "dev_02"].pid) and "P302" in set(rows.pid)
    assert device_report(finished.workdir, "passthrough", "aria", "summed")["stoi"]["count"] > 0  # dev_03 still


def test_report_spectrograms_are_capped_and_spread_over_devices(snakemake):
    result = snakemake("--dry-run", "--config", "report_spectrograms=2")
    planned = re.findall(r"spectrograms/(\S+)\.png", result.stdout)
    assert sorted(set(planned)) == ["dev_02.aria.P302", "dev_02.ha.P301"]
    assert snakemake.planned_jobs("--config", "report_spectrograms=0").get("spectrogram", 0) == 0


def test_scoring_can_be_turned_off(snakemake):
    planned = snakemake.planned_jobs("--config", "evaluate_datasets=[]")
    assert not {"score", "evaluation_reports", "compare_systems"} & set(planned)
    assert planned["spectrogram"] == 9 and planned["validation_table"] == 1


def test_run_evaluation_scores_the_datasets_it_is_given(tmp_path):
    """datasets=[eval] with eval references was only validated (evaluate_datasets
    stayed [dev]), exit 0; now scored, and a dataset left unscored by
    evaluate_datasets is said so. A reference holding NaN then fails the scoring
    job, naming the file and the time (it gave stoi 1e-05, pesq 0 and NaN dB)."""
    import subprocess
    import sys

    from conftest import REPO
    from unit.evaluation.test_evaluation_segments import small_dataset

    data, sub = small_dataset(tmp_path / "data", "eval", sub=tmp_path / "sub"), tmp_path / "sub"

    def run_evaluation(*config: str, options: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                sys.executable,
                str(REPO / "run_evaluation.py"),
                "datasets=[eval]",
                f"data_root={data}",
                f"submission_dir={sub}",
                "system=small",
                "metrics=[stoi]",
                "evaluation_earliest_start_s=0",
                *config,
                "--",
                "--directory",
                str(tmp_path),
                "--cores",
                "2",
                *options,
            ],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )

    result = run_evaluation()
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((tmp_path / "work/evaluation/small/eval/report.eval.aria.individual._._.json").read_text())
    assert report["stoi"]["count"] == 6 and report["stoi"]["min"] > 0.99
    assert "not scored" not in result.stdout + result.stderr
    assert "localrules directive specifies rules that are not present" not in result.stdout + result.stderr
    # the folder enters the comparison, and the run ends with its headline
    assert (tmp_path / "work/evaluation/comparison.eval.csv").is_file()
    assert "eval: small, official weighted means" in result.stdout + result.stderr
    # its report names only the sections it has (it advertised Submission and Spectrograms)
    made = run_evaluation(options=("--report", "report.html"))
    assert made.returncode == 0, made.stderr[-3000:]
    _, categories, landing = report_parts(tmp_path / "report.html")
    assert set(categories) == {"Scores", "Comparison"} and listed_sections(landing) == {"Scores", "Comparison"}
    assert "scored under the name\n<strong>small</strong> with" in landing
    for absent in ("Submission", "Spectrograms", "Listen", "enhanced by"):
        assert absent not in landing, absent

    told = run_evaluation("evaluate_datasets=[dev]", options=("--dry-run",))
    assert told.returncode == 0, told.stderr[-3000:]
    assert (
        "eval: references found but not scored, as evaluate_datasets is [dev]; to score it, "
        "--config evaluate_datasets=[dev,eval]"
    ) in told.stdout + told.stderr

    reference = data / "ref/eval/eval_01.aria.P3.wav"
    x = sf.read(reference)[0]
    x[25000] = np.nan
    sf.write(reference, x, 16000, subtype="FLOAT")
    failed = run_evaluation()
    assert failed.returncode != 0
    # a job names files as it sees them: from work_dir
    assert (
        f"{os.path.relpath(reference, tmp_path / 'work')}: reference of eval_01.aria.P3 holds 1 NaN or Inf samples (the first at frame 25000, "
        "1.562 s in)"
    ) in failed.stdout + failed.stderr


@pytest.mark.parametrize("empty", ["0 bytes", "0 frames"])
def test_an_empty_reference_is_named_and_not_scored_like_a_missing_one(finished, empty):
    """Before: a raw soundfile error (0 bytes), or all its segments skipped with exit 0 (0 frames)."""
    stem = "dev_03.aria.P305"
    reference = own(finished.workdir / f"demo_data/ref/dev/{stem}.wav")
    if empty == "0 bytes":
        reference.write_bytes(b"")
    else:
        sf.write(reference, np.zeros(0), 16000, subtype="PCM_16")
    result = finished()
    text = result.stdout + result.stderr
    says = "is empty (0 bytes)" if empty == "0 bytes" else "has no audio (0 frames)"
    assert f"{stem} is not scored: ../demo_data/ref/dev/{stem}.wav {says}" in text  # from work_dir
    assert f"dev_03.aria summed is not scored: ../demo_data/ref/dev/{stem}.wav {says}" in text
    rows = segments(finished.workdir, "passthrough", "aria")
    assert "P305" not in set(rows.pid) and "P304" in set(rows.pid)
    assert device_report(finished.workdir, "passthrough", "aria")["stoi"]["count"] > 0


def test_every_system_scored_in_the_work_folder_is_compared_and_compare_systems_narrows(finished, tmp_path):
    """A folder scored with run_evaluation.py enters the comparison, and stays in
    it on the next default run; the run ends with its headline numbers. Before,
    only the three default names of compare_systems could be compared."""
    import subprocess
    import sys

    from conftest import REPO, STOI_SCORING

    theirs = tmp_path / "theirs"
    shutil.copytree(finished.workdir / "work/enhanced/passthrough/dev", theirs, ignore=shutil.ignore_patterns("*.csv"))
    scored = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_evaluation.py"),
            "data_root=demo_data",
            f"submission_dir={theirs}",
            "system=theirs",
            "--",
            "--directory",
            str(finished.workdir),
            "--cores",
            "2",
            f"--configfile={STOI_SCORING}",
        ],
        capture_output=True,
        text=True,
        cwd=finished.workdir,
    )
    text = scored.stdout + scored.stderr
    assert scored.returncode == 0, text[-3000:]
    assert "dev: theirs, official weighted means; in brackets the mean improvement over passthrough" in text
    assert re.search(r"^\s*aria\s+individual\s+\d+\s+[\d.]+ \(\+0\.000\)", text, re.M), text[-2000:]
    assert f"official report files: {finished.workdir / 'work/evaluation/theirs/dev'}" in text

    table = pd.read_csv(finished.workdir / "work/evaluation/comparison.dev.csv")
    assert list(dict.fromkeys(table.system)) == ["passthrough", "theirs"]
    # the default run compares the same systems: nothing scored or compared again
    # (the listen pages gain the new system's players)
    assert set(finished.planned_jobs()) <= {"listen", "all"}

    narrowed = finished("--config", "compare_systems=[theirs,ghost]")
    assert "ghost in compare_systems, but the work folder holds neither scores nor" in narrowed.stdout + narrowed.stderr
    table = pd.read_csv(finished.workdir / "work/evaluation/comparison.dev.csv")
    assert list(dict.fromkeys(table.system)) == ["theirs", "passthrough"]  # theirs first: the reference
    assert "over theirs" in narrowed.stdout + narrowed.stderr
