"""Report figures and tables: written, small, and showing what they should."""

from __future__ import annotations

import base64
import html.parser
import io
import math

import numpy as np
import pandas as pd
import soundfile as sf
from PIL import Image

from enhancement.evaluation.tables import write_table
from enhancement.report.figures import distribution_figure, first_seconds, spectrogram_figure, write_html_table
from enhancement.report.listening import (
    EXCERPT_SECONDS,
    Clip,
    Excerpt,
    Segment,
    choose_excerpts,
    listening_page,
    losses,
)
from enhancement.report.pages import comparison_page, official_page, write_headline


def test_spectrogram_figure_reads_only_the_first_seconds(tmp_path):
    rng = np.random.default_rng(0)
    device = tmp_path / "device.wav"
    sf.write(device, 0.1 * rng.standard_normal((48000 * 12, 4)).astype(np.float32), 48000, subtype="PCM_16")
    output = tmp_path / "out.wav"
    sf.write(output, 0.1 * rng.standard_normal(16000 * 3).astype(np.float32), 16000, subtype="PCM_16")
    signal, rate = first_seconds(device, 8.0, channel=0)
    assert rate == 48000 and signal.shape == (8 * 48000,)
    figure = tmp_path / "spectrograms" / "s.png"
    spectrogram_figure([("input", device, 0), ("output", output, 0)], figure, "title")
    image = Image.open(figure)
    assert image.format == "PNG" and image.height > 200
    assert figure.stat().st_size < 300_000


def test_distribution_figure_with_systems_and_devices(tmp_path):
    rng = np.random.default_rng(1)
    scores = {
        name: pd.DataFrame(
            {
                "device": ["aria"] * 5 + ["ha"] * 5,
                "si_snr": rng.normal(10, 3, 10),
                "stoi": rng.uniform(0.8, 1, 10),
                "pesq": rng.uniform(1, 2, 10),
            }
        )
        for name in ("passthrough", "example")
    }
    scores["example"].loc[0, "si_snr"] = np.inf  # sir-like infinities are left out of a box, not plotted
    scores["empty"] = pd.DataFrame()  # a system without scored segments draws nothing
    figure = tmp_path / "d.png"
    distribution_figure(scores, figure, "dev", ["si_snr", "pesq", "stoi"])
    image = Image.open(figure)
    assert image.format == "PNG" and figure.stat().st_size < 200_000
    assert image.size[0] > 2 * image.size[1]  # three panels side by side


def test_html_table_escapes_and_highlights(tmp_path):
    table = pd.DataFrame({"file": ["a<b>.wav", "c.wav"], "si_sdr": [12.345, 3.0], "status": ["ok", "bad"]})
    page = tmp_path / "t.html"
    write_html_table(table, page, "Title & more", note="a note", flagged=table.status != "ok")
    text = page.read_text()
    assert "a&lt;b&gt;.wav" in text and "Title &amp; more" in text and "a note" in text
    assert "12.35" in text and "3.00" in text  # one precision per column
    assert text.count('class="flagged"') == 1


# ---- the pages that compare numbers (enhancement/report/pages.py) ------------------------

HOSTILE = "<img src=x onerror=alert(1)>\"'&"


class Tags(html.parser.HTMLParser):
    """The elements of a page or fragment, and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        self.attributes += [name for name, _ in attrs]

    def handle_data(self, data) -> None:
        self.text.append(data)


def parsed(markup: str) -> Tags:
    tags = Tags()
    tags.feed(markup)
    tags.close()
    return tags


def comparison_rows(systems: dict[str, float], keys: dict[str, float] | None = None) -> pd.DataFrame:
    """A comparison table (as compare_systems writes it): per system its pesq
    offset from the reference's, on two devices and both segment types."""
    keys = keys or {}
    records = []
    for system, offset in systems.items():
        for device in ("aria", "ha"):
            for stype in ("individual", "summed"):
                record = {
                    "system": system,
                    "device": device,
                    "segment_type": stype,
                    "segments": 12,
                    "pesq": 1.5 + offset,
                    "stoi": 0.8,
                    **keys,
                    "pysepm_llr": 1.2 - offset,
                }
                record |= {"pesq_improvement": offset, "stoi_improvement": 0.0, "pysepm_llr_improvement": -offset}
                record |= {f"{k}_improvement": 0.0 for k in keys}
                records.append(record)
    return pd.DataFrame(records)


def cells_of(markup: str, label: str) -> str:
    """The markup of the first table row whose first cell starts with ``label``."""
    start = markup.index(f'class="echi-text">{label}')
    return markup[start : markup.index("</tr>", start)]


def test_headline_puts_the_reference_first_and_colours_improvements_by_direction(tmp_path):
    table = comparison_rows({"passthrough": 0.0, "better": 0.25, "worse": -0.125, "same": 0.0001})
    csv_path = tmp_path / "comparison.dev.csv"
    table.to_csv(csv_path, index=False)
    out = tmp_path / "headline.dev.html"
    write_headline(csv_path, out, "dev")
    fragment = out.read_text()
    assert fragment.startswith('<div class="echi-headline">')
    tags = parsed(fragment)
    assert tags.tags.count("table") == 1 and not {"html", "head", "body", "title", "script"} & set(tags.tags)
    # the headline keys only (not pysepm_llr), each with its direction
    assert "pesq&nbsp;&#8593;" in fragment and "stoi&nbsp;&#8593;" in fragment and "pysepm_llr" not in fragment
    # per device and segment type, the reference first in each group, without improvements
    groups = [g.split("</th>")[0] for g in fragment.split('<tr class="echi-group"><th colspan="4">')[1:]]
    assert groups == ["aria, individual", "aria, summed", "ha, individual", "ha, summed"]
    reference = cells_of(fragment, '<span class="echi-name">passthrough')
    assert "(reference)" in reference and "echi-gain" not in reference
    assert fragment.index('name">passthrough') < fragment.index('name">better') < fragment.index('name">worse')
    assert 'echi-better" title="better than passthrough">+0.250<' in cells_of(
        fragment, '<span class="echi-name">better'
    )
    assert 'echi-worse" title="worse than passthrough">-0.125<' in cells_of(fragment, '<span class="echi-name">worse')
    assert 'echi-same" title="the same as passthrough">+0.000<' in cells_of(fragment, '<span class="echi-name">same')


def test_lower_is_better_keys_are_green_when_they_fall(tmp_path):
    page = tmp_path / "comparison.html"
    comparison_page(comparison_rows({"passthrough": 0.0, "better": 0.25}), page, "Systems compared: dev")
    text = page.read_text()
    row = cells_of(text, '<span title="lower is better">pysepm_<wbr>llr&nbsp;&#8595;</span>')
    assert 'echi-better" title="better than passthrough">-0.250<' in row  # llr fell: better
    assert 'echi-better" title="better than passthrough">+0.250<' in cells_of(
        text, '<span title="higher is better">pesq'
    )


def test_comparison_page_keeps_every_number_in_a_table_per_device_and_segment_type(tmp_path):
    systems = {"passthrough": 0.0, **{f"system_{n}": n / 100 for n in range(1, 11)}}
    table = comparison_rows(systems)
    page = tmp_path / "comparison.html"
    comparison_page(table, page, "Systems compared: dev", note="a note")
    text = page.read_text()
    # 11 systems: two tables per device and segment type (6 columns at most), the reference first in each
    assert text.count("<table") == 2 * 4 and text.count("<h2>") == 2
    assert text.count("passthrough</span><br>") == 8 and text.count("system_<wbr>10</span>") == 4
    assert text.count("<caption>aria, individual</caption>") == 2
    for value in table.pesq:
        assert f"{value:.3f}" in text
    for offset in systems.values():
        if round(offset, 3):
            assert f">{offset:+.3f}<" in text
    shown = "".join(parsed(text).text)
    assert "a note" in shown and "segments" in shown


def test_odd_values_are_explained_only_where_they_appear(tmp_path):
    numbers = pd.DataFrame(
        {
            "device": ["aria", "ha"],
            "segment_type": ["individual", "individual"],
            "segments": [3, 4],
            "sdr": [4.5, 5.5],
            "sir": [math.inf, math.inf],
            "pysepm_c_ovl": [1.0, 1.7],
            "pesq": [1.2, 1.3],
        }
    )
    odd, plain = tmp_path / "odd.html", tmp_path / "plain.html"
    official_page(numbers, odd, "Official scores: a, dev")
    official_page(numbers.drop(columns=["sir"]).assign(pysepm_c_ovl=[1.5, 1.7]), plain, "Official scores: b, dev")
    text = odd.read_text()
    notes = text.split('<ol class="echi-notes">', 1)[1]
    assert notes.count("<li>") == 2 and "sir = inf" in notes and "clipped to the range 1 to 5" in notes
    # the marks are at the values that need them: both sir cells, the one c_ovl at its bound
    assert cells_of(text, '<span title="higher is better">sir').count('<sup class="echi-mark">1</sup>') == 2
    c_ovl = cells_of(text, '<span title="higher is better">pysepm_<wbr>c_ovl')
    assert c_ovl.count('<sup class="echi-mark">2</sup>') == 1 and "1.700<" in c_ovl
    # keys as rows, a column per device and segment type, every number kept
    assert "aria<br>individual" in text and "ha<br>individual" in text and ">inf<" in text and "5.50" in text
    assert '<ol class="echi-notes">' not in plain.read_text() and '<sup class="echi-mark">' not in plain.read_text()


def test_no_value_reaches_the_pages_as_markup(tmp_path):
    """System, device and segment type names, titles and notes are text: a
    hostile one (a folder name cannot hold it, a table edited by hand could)
    is shown, never parsed."""
    table = comparison_rows({HOSTILE: 0.0, f"b{HOSTILE}": 0.5})
    table["device"] = table["device"] + HOSTILE
    csv_path = tmp_path / "comparison.csv"
    table.to_csv(csv_path, index=False)
    pages = {
        "headline": tmp_path / "headline.html",
        "comparison": tmp_path / "comparison.html",
        "official": tmp_path / "official.html",
    }
    write_headline(csv_path, pages["headline"], f"dev{HOSTILE}")
    comparison_page(table, pages["comparison"], f"Systems {HOSTILE}", note=f"note {HOSTILE}")
    official_page(
        table.drop(columns=["system"]).drop_duplicates(["device", "segment_type"]),
        pages["official"],
        f"Official {HOSTILE}",
        note=HOSTILE,
    )
    for name, path in pages.items():
        markup = path.read_text()
        tags = parsed(markup)
        assert "img" not in tags.tags and not [a for a in tags.attributes if a.startswith("on")], name
        assert "&lt;img src=x onerror=alert(1)&gt;&quot;&#x27;&amp;" in markup, name
        assert HOSTILE in "".join(tags.text), name  # shown as written


# ---- the listening pages (enhancement/report/listening.py) --------------------------------------


def score_table(path, pesq: dict[int, float], pid: str = "P1", skipped: tuple[int, ...] = ()) -> str:
    """A scoring job's individual table: segment i from 2i s to 2i+1.5 s (i+1 s for
    segment 5, longer than an excerpt), its pesq, or skipped."""
    rows = []
    for index, value in pesq.items():
        start, end = 32000 * index, 32000 * index + (16000 * (index + 1) if index == 5 else 24000)
        row = {
            "key": f"s.aria.{pid}.{index:03d}.wav",
            "session": "s",
            "device": "aria",
            "pid": pid,
            "segment_type": "individual",
            "index": index,
            "start": start,
            "end": end,
            "status": "skipped" if index in skipped else "scored",
        }
        if index not in skipped:
            row |= {"pesq": value, "stoi": 0.9}
        rows.append(row)
    rows.append({**rows[0], "pid": "P2", "key": "other partner", "pesq": -100.0})
    write_table(rows, ["pesq", "stoi"], path)
    return str(path)


def test_excerpts_are_where_the_system_loses_most_against_the_reference(tmp_path):
    ours = score_table(tmp_path / "ours.csv", {0: 2.0, 1: 1.0, 2: 3.0, 3: 2.5, 4: 2.0, 5: 1.0}, skipped=(4,))
    theirs = score_table(tmp_path / "theirs.csv", {0: 2.1, 1: 2.0, 2: 2.0, 3: 2.5, 4: 1.0, 5: 1.2})
    excerpts, how = choose_excerpts(ours, theirs, "P1", "mine", "passthrough")
    # losses: segment 1 (-1.0), 5 (-0.2), 0 (-0.1); 4 is skipped, P2's segment is another partner's
    assert [e.start_s for e in excerpts] == [2.0, 10.0, 0.0]
    assert [e.seconds for e in excerpts] == [1.5, EXCERPT_SECONDS, 1.5]  # segment 5 is 6 s long: 4 s played
    assert excerpts[0].label == "2.00 s to 3.50 s (segment 1): pesq mine 1.000, passthrough 2.000 (-1.000)"
    assert "its first 4 s played" in excerpts[1].label
    assert "where mine does worst against passthrough on pesq" in how
    # the system is the reference, or nothing to pair: its first kept segments, with their scores
    first, how = choose_excerpts(ours, ours, "P1", "passthrough", "passthrough", count=2)
    assert [e.start_s for e in first] == [0.0, 2.0] and "it is the reference system" in how
    assert first[1].label == "2.00 s to 3.50 s (segment 1): pesq passthrough 1.000"
    unpaired, how = choose_excerpts(ours, None, "P1", "mine", "passthrough")
    assert [e.start_s for e in unpaired] == [0.0, 2.0, 4.0] and "no reference system's scores" in how
    # not scored: the segment list's first kept segments; nothing: the first seconds
    listed, _ = choose_excerpts(None, None, "P1", "mine", "mine", [(48000, 64000), (96000, 112000)])
    assert [(e.start_s, e.seconds) for e in listed] == [(3.0, 1.0), (6.0, 1.0)]
    assert choose_excerpts(None, None, "P1", "mine", "mine")[0] == [Excerpt(0.0, EXCERPT_SECONDS, "0.00 s to 4.00 s")]


def test_a_lower_is_better_key_loses_when_it_rises():
    ours = [Segment("a", 0, 0, 1, 2.0), Segment("b", 1, 1, 2, 1.0)]
    theirs = [Segment("a", 0, 0, 1, 1.0), Segment("b", 1, 1, 2, 1.0)]
    assert [o.key for _, o, _ in losses(ours, theirs, "pysepm_llr")] == ["a", "b"]  # llr up 1.0: the loss
    assert [o.key for _, o, _ in losses(ours, theirs, "pesq")] == ["b", "a"]  # pesq up 1.0: the gain


def test_the_listening_page_plays_every_clip_on_the_same_excerpts(tmp_path):
    rng = np.random.default_rng(2)
    device = tmp_path / "device.wav"
    sf.write(device, 0.1 * rng.standard_normal((48000 * 8, 4)).astype(np.float32), 48000, subtype="PCM_16")
    clips = [Clip("input: the device's channel 0", device)]
    for name in ("reference", "passthrough", "mine"):
        path = tmp_path / f"{name}.wav"
        sf.write(path, 0.1 * rng.standard_normal(16000 * 8).astype(np.float32), 16000, subtype="PCM_16")
        clips.append(Clip(name, path))
    clips.append(Clip(f"theirs{HOSTILE}", None, "its files are elsewhere"))
    page = tmp_path / "listen.html"
    excerpts = [Excerpt(1.0, 1.5, "first <b>"), Excerpt(5.0, 2.0, "second")]
    listening_page(clips, excerpts, page, f"title {HOSTILE}", "how they were chosen")
    text = page.read_text()
    assert text.count("<audio controls") == 2 * 4 and text.count('src="data:audio/flac;base64,') == 2 * 4
    # each clip once per excerpt, in order; the one without files named once, with why
    assert text.count("input: the device&#x27;s channel 0") == 2
    assert text.count("Not played: theirs&lt;img") == 1 and "its files are elsewhere" in text
    assert "<h2>1. first &lt;b&gt;</h2>" in text and "<h2>2. second</h2>" in text
    tags = parsed(text)
    assert "img" not in tags.tags and "b" not in tags.tags
    # the input's channel 0, resampled to 16 kHz, the same stretch as the others
    uris = [u.split('"', 1)[0] for u in text.split('src="data:audio/flac;base64,')[1:]]
    first_input, _ = sf.read(io.BytesIO(base64.b64decode(uris[0])))
    last_system, rate = sf.read(io.BytesIO(base64.b64decode(uris[7])))
    assert rate == 16000 and len(first_input) == 24000 and len(last_system) == 32000
    expected, _ = sf.read(tmp_path / "mine.wav", start=80000, stop=112000)
    assert np.allclose(last_system, expected, atol=1 / 32768)
