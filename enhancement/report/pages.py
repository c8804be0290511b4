"""The report's numbers, readable at 1,400 px: the landing page's headline and
the full tables, metrics as rows.

- :func:`headline_fragment`: per scored dataset, systems (rows, the reference
  first) x the headline keys, grouped by device and segment type, each value
  of a system with its improvement over the reference under it, coloured by
  the key's direction. An HTML fragment that ``rules/report/workflow.rst``
  includes in the report's first screen.
- :func:`comparison_page`: every number of the comparison table, one table per
  device and segment type, metrics as rows and systems as columns (22 columns
  side by side need about 2,450 px; a table per group and the keys down the
  side fit any number of keys).
- :func:`official_page`: a system's official device-level numbers, metrics as
  rows and device/segment type as columns.

Each key says its direction (``higher_is_better`` of enhancement.evaluation.headline),
and a value that looks wrong but is not (``sir = inf``, a composite measure at
its clip bound) carries a footnote saying why, where such a value is shown.

Every text that reaches the markup (system, device and file names, keys,
titles, notes) goes through ``html.escape``: nothing from the config, the
manifest, file names or plugins can become markup. The headline is ASCII
(arrows and dashes as character references): docutils reads it into the
landing page whatever encoding it assumes.
"""

from __future__ import annotations

import csv
import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from enhancement.data.atomic_write import atomic_output
from enhancement.evaluation.headline import HEADLINE_KEYS, headline_rows, higher_is_better
from enhancement.report.figures import html_page, write_page

UP, DOWN = "&#8593;", "&#8595;"
DASH = "&#8211;"
# Hu & Loizou's composite measures: a regression on PESQ, LLR, WSS (and segSNR), clipped to [1, 5]
# (enhancement/evaluation/metrics/sepm.py, composite()).
COMPOSITE_KEYS = frozenset({"pysepm_c_sig", "pysepm_c_bak", "pysepm_c_ovl"})
COMPOSITE_BOUNDS = (1.0, 5.0)
# More systems than this side by side would not fit 1,400 px: the others go to a further table.
MAX_SYSTEM_COLUMNS = 6

NOTES = {
    "sir_inf": (
        "sir = inf: each partner is scored against one reference source (their clean speech), so "
        "BSS-eval has no interfering source: its interference term is exactly zero and the "
        "signal-to-interference ratio is unbounded, for every system alike (the official evaluation "
        "reports inf too). It says nothing about the system; sdr and sar are the BSS-eval numbers to read."
    ),
    "composite_bound": (
        "pysepm_c_sig, pysepm_c_bak, pysepm_c_ovl at 1.000 (or 5.000): these composite measures are "
        "regressions on PESQ, LLR and WSS (and segmental SNR) clipped to the range 1 to 5, so a mean at "
        "the bound means the segments sit at the clip: the key cannot tell these systems apart there."
    ),
    "infinite": (
        "inf: on at least one segment a dB ratio had a zero term (e.g. the output equal to the reference), "
        "so that segment's value, and the mean, are unbounded."
    ),
}

STYLE = """
.echi-tables { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: flex-start; }
"""

# Scoped to .echi-num: the headline is part of the report's own page, where a bare selector
# would restyle Snakemake's markup.
NUMBER_STYLE = """
table.echi-num { border-collapse: collapse; width: auto; margin: 0 0 8px; font-size: 12px; line-height: 1.35;
  font-variant-numeric: tabular-nums; }
table.echi-num caption { text-align: left; font-weight: 600; padding: 2px 0; }
table.echi-num th, table.echi-num td { padding: 2px 7px; border-bottom: 1px solid #ddd; text-align: right;
  vertical-align: top; white-space: nowrap; }
table.echi-num thead th { background: #f3f3f3; white-space: normal; max-width: 9em; vertical-align: bottom; }
table.echi-num .echi-text { text-align: left; }
table.echi-num td.echi-text { white-space: normal; min-width: 6em; max-width: 14em; }
.echi-name { overflow-wrap: anywhere; }
table.echi-num tr.echi-group th { background: #fafafa; text-align: left; font-weight: 600; }
.echi-gain { display: block; font-size: 11px; }
.echi-better { color: #137333; }
.echi-worse { color: #b3261e; }
.echi-same { color: #777; }
.echi-ref { color: #777; font-weight: normal; }
.echi-mark { color: #555; font-size: 10px; }
ol.echi-notes { margin: 4px 0 8px; padding-left: 20px; color: #444; font-size: 12px; max-width: 70em; }
"""

# The landing page: Snakemake shows the workflow description in a narrow column (32rem),
# vertically centred beside the rule graph (centred, a description taller than the screen
# loses its top). Where it holds the headline, the column is widened and starts at the top.
LANDING_STYLE = """
.prose:has(.echi-headline) { max-width: 46rem; }
.items-center:has(.echi-headline) { align-items: flex-start; }
.echi-headline { margin: 0 0 12px; }
.echi-headline p { margin: 0 0 4px; font-size: 13px; line-height: 1.4; }
"""


def escape(value: object) -> str:
    """Text as markup: escaped, non-ASCII as character references."""
    return html.escape(str(value)).encode("ascii", "xmlcharrefreplace").decode("ascii")


def name_label(name: str) -> str:
    """A system's name, which may wrap: after an underscore first, anywhere if it must
    (a long name cannot widen its column past the page)."""
    return f'<span class="echi-name">{escape(name).replace("_", "_<wbr>")}</span>'


def key_label(key: str) -> str:
    """A key's column or row label with its direction: ``pesq ↑``, ``pysepm_llr ↓``
    (a break allowed after ``pysepm_``, so a narrow column can wrap it)."""
    arrow, says = (UP, "higher is better") if higher_is_better(key) else (DOWN, "lower is better")
    name = escape(key).replace("pysepm_", "pysepm_<wbr>", 1)
    return f'<span title="{says}">{name}&nbsp;{arrow}</span>'


def decimals_for(values: Sequence[float]) -> int:
    """One precision per key: 3 decimals, 2 where a value reaches 10 (dB)."""
    return 2 if any(math.isfinite(v) and abs(v) >= 10 for v in values) else 3


def number(value: float | None, decimals: int) -> str:
    if value is None or math.isnan(value):
        return DASH
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{decimals}f}"


def gain_class(key: str, gain: float, decimals: int) -> str:
    """better, worse, or the same at the precision shown, by the key's direction."""
    if round(gain, decimals) == 0:
        return "echi-same"
    return "echi-better" if (gain > 0) == higher_is_better(key) else "echi-worse"


def odd_note(key: str, value: float | None) -> str | None:
    """The note that explains a value, where it needs one (see NOTES)."""
    if value is None or math.isnan(value):
        return None
    if math.isinf(value):
        return "sir_inf" if key == "sir" else "infinite"
    if key in COMPOSITE_KEYS and round(value, 3) in COMPOSITE_BOUNDS:
        return "composite_bound"
    return None


@dataclass
class Notes:
    """The footnotes a page uses, numbered in the order they first appear."""

    used: list[str] = field(default_factory=list)

    def mark(self, note: str | None) -> str:
        if note is None:
            return ""
        if note not in self.used:
            self.used.append(note)
        return f'<sup class="echi-mark">{self.used.index(note) + 1}</sup>'

    def html(self) -> str:
        if not self.used:
            return ""
        items = "".join(f"<li>{escape(NOTES[n])}</li>" for n in self.used)
        return f'<ol class="echi-notes">{items}</ol>\n'


def value_cell(
    key: str, value: float | None, gain: float | None, decimals: int, notes: Notes, reference: str | None
) -> str:
    """A value, its footnote mark where it needs one, and under it its
    improvement over ``reference`` coloured by the key's direction."""
    text = number(value, decimals) + notes.mark(odd_note(key, value))
    if gain is not None and not math.isnan(gain):
        kind = gain_class(key, gain, decimals)
        shown = number(0.0 if kind == "echi-same" else gain, decimals)
        shown = shown if shown.startswith("-") else "+" + shown
        says = {"echi-better": "better than", "echi-worse": "worse than", "echi-same": "the same as"}[kind]
        text += f'<span class="echi-gain {kind}" title="{says} {escape(reference or "the reference")}">{shown}</span>'
    return f"<td>{text}</td>"


def _float(value: object) -> float | None:
    try:
        return float(value)  # "inf" and "nan" too
    except (TypeError, ValueError):
        return None


# ---- the headline (landing page) ----------------------------------------------------


def systems_in(comparison: Path | str) -> list[str]:
    """The systems of a comparison table, in its order (the reference first)."""
    with open(comparison, newline="") as handle:
        return list(dict.fromkeys(row["system"] for row in csv.DictReader(handle)))


def headline_fragment(comparison: Path | str, dataset: str) -> str:
    """The landing page's table for one dataset: systems x headline keys per
    device and segment type, improvements over the reference under the values."""
    systems = systems_in(comparison)
    per_system = {s: headline_rows(comparison, s) for s in systems}
    keys, _, reference = per_system[systems[0]] if systems else ([], [], None)
    notes = Notes()
    groups: dict[tuple[str, str], list[tuple[str, dict]]] = {}
    for system in systems:
        for row in per_system[system][1]:
            groups.setdefault((row["device"], row["segment_type"]), []).append((system, row))
    decimals = {k: decimals_for([r["values"][k] for rows in groups.values() for _, r in rows]) for k in keys}
    head = (
        '<tr><th class="echi-text">system</th><th>segments</th>'
        + "".join(f"<th>{key_label(k)}</th>" for k in keys)
        + "</tr>"
    )
    body = []
    for (device, segment_type), rows in groups.items():
        body.append(
            f'<tr class="echi-group"><th colspan="{len(keys) + 2}">{escape(device)}, {escape(segment_type)}</th></tr>'
        )
        for system, row in rows:
            is_reference = system == reference
            name = name_label(system) + (' <span class="echi-ref">(reference)</span>' if is_reference else "")
            cells = "".join(
                value_cell(
                    k, row["values"][k], None if is_reference else row["improvements"][k], decimals[k], notes, reference
                )
                for k in keys
            )
            body.append(f'<tr><td class="echi-text">{name}</td><td>{escape(row["segments"])}</td>{cells}</tr>')
    return (
        f'<div class="echi-headline">\n<style>{NUMBER_STYLE}{LANDING_STYLE}</style>\n'
        f"<p>{headline_caption(dataset, reference, systems, keys)}</p>\n"
        f'<table class="echi-num"><thead>{head}</thead><tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>\n"
        + notes.html()
        + "</div>\n"
    )


def headline_caption(dataset: str, reference: str | None, systems: Sequence[str], keys: Sequence[str]) -> str:
    """What the headline table shows, and how to read it."""
    text = (
        f"<strong>{escape(dataset)}</strong>: the official weighted means of the main keys "
        f"({UP} higher is better, {DOWN} lower is better)"
    )
    if reference and len(systems) > 1:
        text += (
            f"; under each value, the mean improvement over <strong>{escape(reference)}</strong> "
            f'on the same segments, <span class="echi-better">green</span> better, '
            f'<span class="echi-worse">red</span> worse.'
        )
    elif len(systems) <= 1:
        text += "; run another system (--config enhancement_name=NAME) to see it beside this one."
    if not keys:
        text += f" The metric set has none of the main keys ({escape(', '.join(HEADLINE_KEYS))})."
    return text


def write_headline(comparison: Path | str, output: Path | str, dataset: str) -> None:
    with atomic_output(output) as tmp:
        Path(tmp).write_text(headline_fragment(comparison, dataset), encoding="ascii")


# ---- full tables: metrics as rows -----------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a metrics-as-rows table: a header (markup, escaped by the
    caller), the segment count, the values by key and, where there are, the
    improvements by key."""

    header: str
    segments: object
    values: Mapping[str, float | None]
    gains: Mapping[str, float | None] | None = None


def metrics_table(
    caption: str, columns: Sequence[Column], keys: Sequence[str], notes: Notes, reference: str | None = None
) -> str:
    """Keys down the side (with their direction), one column per ``Column``."""
    head = '<tr><th class="echi-text">key</th>' + "".join(f"<th>{c.header}</th>" for c in columns) + "</tr>"
    rows = [
        '<tr><th class="echi-text">segments</th>' + "".join(f"<td>{escape(c.segments)}</td>" for c in columns) + "</tr>"
    ]
    for key in keys:
        decimals = decimals_for([v for c in columns if (v := c.values.get(key)) is not None])
        cells = "".join(
            value_cell(key, c.values.get(key), (c.gains or {}).get(key), decimals, notes, reference) for c in columns
        )
        rows.append(f'<tr><th class="echi-text">{key_label(key)}</th>{cells}</tr>')
    return (
        f'<table class="echi-num"><caption>{caption}</caption><thead>{head}</thead><tbody>\n'
        + "\n".join(rows)
        + "\n</tbody></table>"
    )


def metric_keys_of(table: pd.DataFrame, fixed: Sequence[str]) -> list[str]:
    return [c for c in table.columns if c not in fixed and not c.endswith("_improvement")]


def in_chunks(systems: Sequence[str]) -> list[list[str]]:
    """Systems in tables of at most MAX_SYSTEM_COLUMNS, the reference first in each."""
    if len(systems) <= MAX_SYSTEM_COLUMNS:
        return [list(systems)]
    first, rest = systems[0], list(systems[1:])
    step = MAX_SYSTEM_COLUMNS - 1
    return [[first, *rest[i : i + step]] for i in range(0, len(rest), step)]


def comparison_page(table: pd.DataFrame, output: Path | str, title: str, note: str = "") -> None:
    """Every number of a comparison table (``compare_systems``): per device, a
    table per segment type, keys as rows, systems as columns, each system's
    improvement over the reference (the first) under its values."""
    keys = metric_keys_of(table, ("system", "device", "segment_type", "segments"))
    systems = list(dict.fromkeys(table["system"])) if len(table) else []
    has_gains = any(c.endswith("_improvement") for c in table.columns)
    reference = systems[0] if systems and has_gains else None
    notes = Notes()
    sections = []
    for device in dict.fromkeys(table["device"]) if len(table) else []:
        tables = []
        for segment_type in dict.fromkeys(table.loc[table.device == device, "segment_type"]):
            rows = table[(table.device == device) & (table.segment_type == segment_type)].set_index("system")
            for chunk in in_chunks([s for s in systems if s in rows.index]):
                columns = [
                    system_column(rows.loc[s], s, keys, has_gains and s != reference, s == reference) for s in chunk
                ]
                tables.append(
                    metrics_table(f"{escape(device)}, {escape(segment_type)}", columns, keys, notes, reference)
                )
        sections.append(f'<h2>{escape(device)}</h2>\n<div class="echi-tables">\n' + "\n".join(tables) + "\n</div>\n")
    write_page(output, html_page(title, "".join(sections) + notes.html(), STYLE + NUMBER_STYLE, note))


def system_column(row: pd.Series, system: str, keys: Sequence[str], with_gains: bool, is_reference: bool) -> Column:
    header = name_label(system) + ('<br><span class="echi-ref">(reference)</span>' if is_reference else "")
    gains = {k: _float(row.get(f"{k}_improvement")) for k in keys} if with_gains else None
    return Column(header, row["segments"], {k: _float(row[k]) for k in keys}, gains)


def official_page(numbers: pd.DataFrame, output: Path | str, title: str, note: str = "") -> None:
    """A system's official device-level numbers (``device_numbers``): keys as
    rows, one column per device and segment type."""
    keys = metric_keys_of(numbers, ("device", "segment_type", "segments"))
    columns = [
        Column(f"{escape(r['device'])}<br>{escape(r['segment_type'])}", r["segments"], {k: _float(r[k]) for k in keys})
        for r in numbers.to_dict("records")
    ]
    notes = Notes()
    body = metrics_table("weighted mean per device and segment type", columns, keys, notes)
    write_page(output, html_page(title, body + "\n" + notes.html(), STYLE + NUMBER_STYLE, note))
