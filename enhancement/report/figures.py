"""Figures and tables for ``snakemake --report``: what a system did, and how it scores.

- :func:`spectrogram_figure`: the first seconds of the device's channel 0, the
  enhanced output and (where there is one) the clean reference, one above the
  other on one colour scale, so a listener's eye can see what was removed.
- :func:`distribution_figure`: per-segment scores of several systems, per
  device, as box plots.
- :func:`write_html_table`: a CSV table as a small standalone HTML page (the
  report shows HTML inline; a CSV would only be a download).

The pages that compare numbers are enhancement/report/pages.py's; the
listening pages, enhancement/report/listening.py's.

matplotlib runs headless (Agg); PNGs are palette-quantised to stay small.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

from enhancement.data.atomic_write import atomic_output

if TYPE_CHECKING:  # pandas is imported where a table is drawn: a spectrogram job does without it
    import pandas as pd

SPECTROGRAM_SECONDS = 8.0
MAX_HZ = 8000  # the submission's Nyquist frequency: the input is shown to the same height
DYNAMIC_RANGE_DB = 80
WINDOW_S, HOP_S = 0.032, 0.008  # the spectrogram's Hann window and hop


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def first_seconds(path: Path | str, seconds: float, channel: int = 0) -> tuple[np.ndarray, int]:
    """The first ``seconds`` of one channel of a file (only those frames are read)."""
    with sf.SoundFile(str(path)) as handle:
        rate = handle.samplerate
        data = handle.read(frames=int(seconds * rate), dtype="float32", always_2d=True)
    return data[:, channel], rate


def spectrogram_db(signal: np.ndarray, rate: int, max_hz: float = MAX_HZ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectrogram in dB (32 ms Hann windows, 8 ms hop) up to ``max_hz``:
    (frame times in s, frequencies in Hz, dB of shape [frequencies, frames])."""
    window = int(round(WINDOW_S * rate))
    hop = int(round(HOP_S * rate))
    if len(signal) < window:
        signal = np.pad(signal, (0, window - len(signal)))
    frames = np.lib.stride_tricks.sliding_window_view(signal, window)[::hop] * np.hanning(window)
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
    freqs = np.fft.rfftfreq(window, 1 / rate)
    keep = freqs <= max_hz
    times = (np.arange(len(frames)) * hop + window / 2) / rate
    return times, freqs[keep], 10 * np.log10(power[:, keep].T + 1e-12)


def save_png(figure, path: Path | str, dpi: int = 80) -> None:
    """Save a figure as a palette PNG (a third of the size of a full-colour one).
    The canvas's pixels go to the quantiser directly (no PNG written and read back)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    figure.set_dpi(dpi)
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    image = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)


def spectrogram_figure(
    panels: Sequence[tuple[str, Path | str, int]],
    output: Path | str,
    title: str,
    seconds: float = SPECTROGRAM_SECONDS,
) -> None:
    """One spectrogram per (label, file, channel), stacked, on a shared time
    axis and a shared colour scale (the loudest panel's peak down 80 dB).

    A report draws one per chosen target, each in its own job: the figure is
    built without pyplot, as one image per panel on a fixed layout (pyplot's
    import and a constrained layout were most of such a job's time)."""
    from matplotlib.figure import Figure

    spectra = []
    for label, path, channel in panels:
        signal, rate = first_seconds(path, seconds, channel)
        spectra.append((f"{label} ({rate / 1000:g} kHz)", *spectrogram_db(signal, rate)))
    top = max(float(db.max()) for *_, db in spectra)
    panel_in, top_in, bottom_in = 1.9, 0.75, 0.55  # inches: each panel, the title, the time axis
    height = panel_in * len(spectra) + top_in + bottom_in
    figure = Figure(figsize=(9, height))
    left, right = 0.07, 0.86
    for row, (label, times, freqs, db) in enumerate(spectra):
        bottom = (bottom_in + (len(spectra) - 1 - row) * panel_in) / height
        ax = figure.add_axes((left, bottom, right - left, (panel_in - 0.35) / height))
        step = freqs[1] - freqs[0]
        image = ax.imshow(
            db,
            origin="lower",
            aspect="auto",
            interpolation="nearest",
            cmap="magma",
            vmin=top - DYNAMIC_RANGE_DB,
            vmax=top,
            extent=(
                times[0] - HOP_S / 2,
                times[-1] + HOP_S / 2,
                (freqs[0] - step / 2) / 1000,
                (freqs[-1] + step / 2) / 1000,
            ),
        )
        ax.set_ylabel("kHz")
        ax.set_title(label, loc="left", fontsize=10)
        ax.set_xlim(0, seconds)
        if row < len(spectra) - 1:
            ax.tick_params(labelbottom=False)
        else:
            ax.set_xlabel("time (s)")
    colorbar = figure.add_axes((0.89, bottom_in / height, 0.015, (height - top_in - bottom_in) / height))
    figure.colorbar(image, cax=colorbar, label="dB")
    figure.suptitle(title, fontsize=11, y=1 - 0.2 / height)
    save_png(figure, output)


def distribution_figure(
    scores: Mapping[str, pd.DataFrame], output: Path | str, title: str, keys: Sequence[str]
) -> None:
    """Box plots of the scored segments, one panel per key, grouped by device,
    one box (and its points) per system."""
    import pandas as pd

    plt = _pyplot()
    systems = list(scores)
    devices = sorted({d for table in scores.values() if len(table) for d in table.device.astype(str)})
    colours = plt.get_cmap("tab10").colors
    keys = list(keys) or ["(none)"]
    figure, axes = plt.subplots(1, len(keys), figsize=(3.4 * len(keys) + 0.4, 3.6), layout="constrained", squeeze=False)
    axes = axes[0]
    width = 0.8 / max(len(systems), 1)
    rng = np.random.default_rng(0)
    for ax, metric in zip(axes, keys):
        for s, system in enumerate(systems):
            table = scores[system]
            if metric not in table:
                continue
            values = [
                pd.to_numeric(table.loc[table.device == d, metric])
                .replace([np.inf, -np.inf], np.nan)
                .dropna()
                .to_numpy()
                for d in devices
            ]
            positions = np.arange(len(devices)) + (s - (len(systems) - 1) / 2) * width
            present = [(p, v) for p, v in zip(positions, values) if len(v)]
            if present:
                box = ax.boxplot(
                    [v for _, v in present],
                    positions=[p for p, _ in present],
                    widths=width * 0.8,
                    patch_artist=True,
                    showfliers=False,
                    manage_ticks=False,
                    medianprops={"color": colours[s % 10]},
                )
                for patch in box["boxes"]:
                    patch.set(facecolor=colours[s % 10], alpha=0.35, edgecolor=colours[s % 10])
                for p, v in present:
                    ax.scatter(
                        p + rng.uniform(-width / 5, width / 5, len(v)),
                        v,
                        s=8,
                        color=colours[s % 10],
                        label=system if p == present[0][0] else None,
                        zorder=3,
                    )
        ax.set_xticks(np.arange(len(devices)), devices)
        ax.set_title(metric, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    if any(ax.get_legend_handles_labels()[0] for ax in axes):
        axes[-1].legend(fontsize=8, loc="best")
    figure.suptitle(title, fontsize=11)
    save_png(figure, output, dpi=90)
    plt.close(figure)


PAGE_STYLE = """
body { font-family: system-ui, sans-serif; font-size: 13px; margin: 8px; }
h1 { font-size: 15px; margin: 0 0 6px; }
h2 { font-size: 14px; margin: 14px 0 4px; }
p { margin: 0 0 8px; color: #444; max-width: 70em; }
"""

TABLE_STYLE = """
table { border-collapse: collapse; }
th, td { padding: 3px 8px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }
th { background: #f3f3f3; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr.flagged td { background: #fff3cd; }
"""


def html_page(title: str, body: str, style: str = "", note: str = "") -> str:
    """The report's standalone pages (it shows each in a frame): ``title`` and
    ``note`` are text, escaped here; ``body`` is markup its caller escaped."""
    return (
        f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{PAGE_STYLE}{style}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
        + (f"<p>{html.escape(note)}</p>\n" if note else "")
        + body
        + "</body></html>\n"
    )


def write_page(output: Path | str, page: str) -> None:
    with atomic_output(output) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")


def write_html_table(
    table: pd.DataFrame, output: Path | str, title: str, note: str = "", flagged: Sequence[bool] | None = None
) -> None:
    """A table as a standalone HTML page: numbers right-aligned, the rows
    marked in ``flagged`` highlighted."""
    import pandas as pd

    text_columns = {c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])}
    # one precision per column: 3 decimals, 2 where values reach 10 (dB)
    decimals = {
        c: 2 if (table[c].abs() >= 10).any() else 3 for c in table.columns if pd.api.types.is_float_dtype(table[c])
    }

    def cell(value, column, tag="td") -> str:
        if isinstance(value, float | np.floating):
            text = "" if np.isnan(value) else f"{value:.{decimals.get(column, 3)}f}"
        else:
            text = "" if value is None or value is pd.NA else str(value)
        kind = ' class="text"' if column in text_columns else ""
        return f"<{tag}{kind}>{html.escape(text)}</{tag}>"

    head = "".join(cell(str(c), c, "th") for c in table.columns)
    rows = []
    marks = [False] * len(table) if flagged is None else list(flagged)
    for record, mark in zip(table.itertuples(index=False), marks, strict=True):
        cells = "".join(cell(value, column) for value, column in zip(record, table.columns))
        rows.append(('<tr class="flagged">' if mark else "<tr>") + cells + "</tr>")
    body = f"<table><thead><tr>{head}</tr></thead><tbody>\n" + "\n".join(rows) + "\n</tbody></table>\n"
    write_page(output, html_page(title, body, TABLE_STYLE, note))
