"""Report figures and tables: written, small, and showing what they should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import soundfile as sf
from PIL import Image

from enhancement.report import distribution_figure, first_seconds, spectrogram_figure, write_html_table


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
        name: pd.DataFrame({
            "device": ["aria"] * 5 + ["ha"] * 5,
            "si_snr": rng.normal(10, 3, 10), "stoi": rng.uniform(0.8, 1, 10), "pesq": rng.uniform(1, 2, 10),
        })
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
