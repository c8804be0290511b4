"""report.html opened in a real browser: nothing from the config runs or leaks (issue 14, S1/S2),
and the numbers are readable at 1,400 px (issue 22).

One real workflow run on a copy of the demo data whose data_root and work_dir
folder names hold every character the workflow still allows that means
something in HTML, JavaScript, JSON, reStructuredText or Jinja, then
``snakemake --report``. The report is opened in headless Chromium with a small
driver script (put first in a copy of the page) that walks every view of the
report's app (menu, categories, each result's info and content, each rule,
statistics, search) and keeps a copy of each; the DOM after all of that is
checked for injected handlers, elements and URLs, a changed title, a dialog,
the contents of a local file, and template evaluation. The HTML tables the
report embeds (data URIs) are opened on their own the same way. A control
page with a real injected handler shows the same check fails.

The layout tests open the report of the shared ``compared`` run (passthrough
and example) in a 1,400-px window: the landing page's headline table is on the
first screen and fits its column, and no table of any embedded page (laid out
in the frame the report shows it in) is wider than the page; the widest pages
the full metric set makes are checked the same way, and the official table as
it was (a column per key) shows the check fails.

Chromium is Debian's ``chromium`` package, installed with apt-get where
missing; without it the tests skip, saying why, unless ECHI_REQUIRE_BROWSER=1
(CI), where they fail.
"""

from __future__ import annotations

import base64
import html
import html.parser
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import REPO, Snakemake, linked_copy
from headless_chromium import BrowserUnavailable, chromium, dump_dom

from enhancement.evaluation.jobs import MAIN_KEYS
from enhancement.evaluation.metrics import metric_keys, resolve_metrics
from enhancement.report.figures import write_html_table
from enhancement.report.pages import comparison_page, headline_fragment, official_page

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("browser")]  # one worker builds the module's runs

REPORT_TITLE = "Snakemake Report"
TEMPLATE = "{{ 7*7 }}"
# What the report's own scripts log (Vega, its caption rendering, Tailwind); any other console message fails.
REPORT_CONSOLE = (
    "The input spec uses Vega-Lite v3",
    "WARN Log scale domain includes zero",
    '<div class="document">',
    "cdn.tailwindcss.com should not be used in production",
)
# Reaches the report as text, were anything to evaluate, unescape or render it.
HOSTILE = (
    "a & b; c:d=e (f) [h] %i #j $k \\l *m ! ? | ^ ~ , + @ .. -- "
    "onerror=document.title=1 javascript:alert(1) " + TEMPLATE + " "
    "&lt;img src=x onerror=document.title=2&gt; $(touch pwned_by_shell) \\u003cb\\u003e \u2028 %3Cb%3E"
)

DRIVER = """
<script id="echi-driver">
(function () {
  "use strict";
  const log = {views: [], titles: [], dialogs: [], errors: []};
  for (const name of ["alert", "confirm", "prompt", "print", "open"]) {
    window[name] = function (message) { log.dialogs.push(name + ": " + message); };
  }
  window.addEventListener("error", (event) => log.errors.push(String(event.message || event.type)), true);
  function box() {
    let found = document.getElementById("echi-views");
    if (!found) {
      found = document.createElement("div");
      found.id = "echi-views";
      found.hidden = true;
      document.body.appendChild(found);
    }
    return found;
  }
  function capture(label) {
    const view = document.createElement("section");
    view.setAttribute("data-view", label);
    view.appendChild(document.getElementById("app").cloneNode(true));
    box().appendChild(view);
    log.views.push(label);
    log.titles.push(document.title);
  }
  function steps() {
    const list = [["start", () => {}],
                  ["rulegraph", () => app.setView({content: "rulegraph"})],
                  ["stats", () => app.setView({content: "stats"})],
                  ["metadata", () => app.setView({content: "metadata"})],
                  ["reportinfo", () => app.setView({navbarMode: "reportinfo"})],
                  ["search", () => app.setView({navbarMode: "searchresults", searchTerm: "dev"})]];
    for (const category of Object.keys(categories)) {
      list.push(["category " + category, () => app.showCategory(category)]);
      for (const sub of Object.keys(categories[category])) {
        list.push(["subcategory " + sub, () => app.setView({navbarMode: "subcategory", category: category, subcategory: sub})]);
      }
    }
    for (const [path, entry] of Object.entries(results)) {
      list.push(["resultinfo " + path, () => app.showResultInfo(path)]);
      if (entry.data_uri) {
        const kind = entry.mime_type && entry.mime_type.startsWith("image/") ? "img" : "html";
        list.push(["content " + path, () => app.setView({content: kind, contentPath: entry.data_uri, resultPath: path})]);
      }
    }
    for (const rule of Object.keys(rules)) {
      list.push(["rule " + rule, () => app.setView({navbarMode: "ruleinfo", ruleinfo: rule})]);
    }
    return list;
  }
  function finish() {
    const out = document.createElement("pre");
    out.id = "echi-driver-log";
    out.textContent = JSON.stringify(log);
    document.body.appendChild(out);
  }
  function run(list, index) {
    if (index > 0) capture(list[index - 1][0]);
    if (index === list.length) return finish();
    try { list[index][1](); } catch (error) { log.errors.push(list[index][0] + ": " + error); }
    setTimeout(() => run(list, index + 1), 100);
  }
  function start(tries) {
    if (typeof app !== "undefined" && document.getElementById("app") && document.getElementById("app").children.length) {
      return run(steps(), 0);
    }
    if (tries > 100) { log.errors.push("the report's app never rendered"); return finish(); }
    setTimeout(() => start(tries + 1), 100);
  }
  window.addEventListener("load", () => start(0));
})();
</script>
"""


class Markup(html.parser.HTMLParser):
    """What a DOM holds that a page of ours never should, and its visible text."""

    DANGEROUS = {"object", "embed", "base", "frame", "frameset", "applet", "link"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.title = ""
        self.text: list[str] = []
        self.inside: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.inside.append(tag)
        values = dict(attrs)
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag}> has an event handler attribute {name}={value!r}")
            if name in {"src", "href", "action", "formaction", "srcdoc", "data", "xlink:href"}:
                if value.lower().startswith("javascript:"):
                    self.problems.append(f"<{tag}> has a javascript: URL in {name}")
                elif name == "srcdoc" or not (value.startswith("data:") or name == "href" and value.startswith("#")):
                    self.problems.append(f"<{tag}> loads {name}={value[:80]!r}, not the report's own data")
        if tag in self.DANGEROUS:
            self.problems.append(f"an element <{tag}> is in the page")
        if tag == "script" and "src" in values:
            self.problems.append(f"a <script src={values['src']!r}> is in the page")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append(f"a <meta http-equiv={values['http-equiv']!r}> is in the page")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.inside:
            while self.inside.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.inside and self.inside[-1] == "title":
            self.title += data
        elif not self.inside or self.inside[-1] not in {"script", "style"}:
            self.text.append(data)


def inspect(dom: str) -> Markup:
    page = Markup()
    page.feed(dom)
    page.close()
    return page


def problems_of(dom: str, log: str, title: str) -> list[str]:
    """Every sign that something injected ran or is in the page (empty: none)."""
    page = inspect(dom)
    problems = list(page.problems)
    if page.title.strip() != title:
        problems.append(f"the title is {page.title.strip()!r}, not {title!r}")
    for line in log.splitlines():
        message = re.search(r":CONSOLE(?::\d+)?\] \"(.*)", line)
        if message and not message[1].startswith(REPORT_CONSOLE):
            problems.append(f"console: {message[1]}")
    return problems


@pytest.fixture(scope="module")
def browser() -> str:
    try:
        return chromium()
    except BrowserUnavailable as exc:
        if os.environ.get("ECHI_REQUIRE_BROWSER") == "1":
            pytest.fail(f"ECHI_REQUIRE_BROWSER=1 but no headless Chromium: {exc}")
        pytest.skip(f"no headless Chromium: {exc}")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory, demo_data: Path, browser: str) -> dict:
    """A finished run and its report, data_root, work_dir and the args yaml under
    hostile names (``browser`` first: no run where the tests would skip)."""
    workdir = tmp_path_factory.mktemp("hostile")
    token = f"ECHI-SECRET-{uuid.uuid4().hex}"
    secret = workdir / "secret.txt"
    secret.write_text(f"{token}\n")
    # an absolute include of the secret file, and a raw html directive, as reStructuredText would read them
    rst = f"x .. include:: {secret} .. raw:: html  .. |s| replace:: y"
    base = workdir / HOSTILE / rst.lstrip("/")
    # work_dir outside the hostile folder: the rules' input patterns, which the report shows,
    # name the data from work_dir through it
    data_root, work_dir = base / "data", workdir / "work"
    linked_copy(demo_data, data_root)
    args_yaml = base / "passthrough.yaml"
    shutil.copy(REPO / "enhance_args" / "passthrough.yaml", args_yaml)
    config = workdir / "hostile.yaml"
    settings = {
        "data_root": str(data_root),
        "work_dir": str(work_dir),
        "enhance_args": str(args_yaml),
        "devices": ["ha"],
        "report_spectrograms": 1,
    }  # one session: a short run
    config.write_text(yaml.safe_dump(settings, allow_unicode=True))
    run = Snakemake(workdir)
    run("--configfile", str(config))
    run("--configfile", str(config), "--report", "report.html")
    return {
        "workdir": workdir,
        "token": token,
        "data_root": data_root,
        "work_dir": work_dir,
        "args_yaml": args_yaml,
        "report": workdir / "report.html",
    }


@pytest.fixture(scope="module")
def driven(hostile_run: dict, browser: str) -> dict:
    """The report's DOM after every view was shown, with the driver's log."""
    report = hostile_run["report"]
    text = report.read_text()
    assert 0 <= text.find("<head>") < 200, "the report's <head> moved: update the driver's insertion"
    page = report.with_name("driven.html")
    page.write_text(text.replace("<head>", "<head>" + DRIVER, 1))
    dom, log = dump_dom(browser, page, hostile_run["workdir"], budget_ms=60_000)
    page_view = inspect(dom)
    marker = '<pre id="echi-driver-log">'
    assert marker in dom, f"the driver did not finish:\n{log[-3000:]}"
    driver_log = json.loads(html.unescape(dom.split(marker, 1)[1].split("</pre>", 1)[0]))
    return {"dom": dom, "log": log, "driver": driver_log, "text": "".join(page_view.text)}


def test_the_report_renders_and_nothing_injected_runs(driven, hostile_run):
    driver = driven["driver"]
    assert not driver["errors"], driver["errors"]
    # not vacuous: the app built every view, the workflow description and result paths are in them
    results = [view for view in driver["views"] if view.startswith("content ")]
    assert len(results) >= 5, driver["views"]
    assert any(view.startswith("rule enhance") for view in driver["views"]), driver["views"]
    assert "The enhancement stage of the CHiME-9 ECHI challenge" in driven["text"]
    # (the rules name their files from work_dir: the data's, through the hostile folder)
    assert os.path.relpath(hostile_run["data_root"], hostile_run["work_dir"]) in driven["text"], (
        "the hostile folder is not shown: the check would be vacuous"
    )
    # nothing ran: no dialog, the title never changed, no handler or foreign element, no console message
    assert driver["dialogs"] == []
    assert set(driver["titles"]) == {REPORT_TITLE}, driver["titles"]
    assert problems_of(driven["dom"], driven["log"], REPORT_TITLE) == []
    assert not (hostile_run["workdir"] / "pwned_by_shell").exists()


def test_no_local_file_is_included_and_no_template_is_evaluated(driven, hostile_run):
    report = hostile_run["report"].read_text()
    assert hostile_run["token"] not in report
    assert hostile_run["token"] not in driven["dom"]
    # the Jinja expression in the folder name is shown as written wherever the name is
    shown = driven["text"]
    before = "javascript:alert(1) "
    assert shown.count(before) > 0
    assert shown.count(before) == shown.count(before + TEMPLATE), "the folder name was changed where shown"
    assert before + "49" not in shown


def embedded_pages(report: str) -> dict[str, str]:
    """Result path -> the HTML page the report embeds for it (a data URI)."""
    start = report.index("var results = ", report.index('<script id="results">')) + len("var results = ")
    results, _ = json.JSONDecoder().raw_decode(report, start)
    pages = {}
    for path, entry in results.items():
        uri = entry.get("data_uri") or ""
        if uri.startswith("data:text/html"):
            pages[path] = base64.b64decode(uri.split("base64,", 1)[1]).decode()
    return pages


def test_the_embedded_tables_render_as_text(hostile_run, browser, tmp_path):
    pages = embedded_pages(hostile_run["report"].read_text())
    assert {Path(path).name for path in pages} >= {"validation.html", "official.html", "comparison.dev.html"}
    for path, text in pages.items():
        page = tmp_path / f"{Path(path).stem}.html"
        page.write_text(text)
        dom, log = dump_dom(browser, page, tmp_path)
        shown = inspect(dom)
        element = "<audio controls" if "/listen/" in path else "<table"  # players or a table
        assert element in dom and len(shown.text) > 0, path
        assert problems_of(dom, log, shown.title.strip()) == [], path
        assert hostile_run["token"] not in dom, path


CONTROLS = {
    # markup in a page, as S1 would put it into the workflow description
    "handler": "<img src=x onerror=\"document.title='PWNED'; console.log('injected ran')\">",
    # S2: a value that ends the <script> holding the report's JSON
    "script breakout": '<script>var results = {"a": "</script><img src=x onerror="document.title=\'PWNED\'">"};</script>',
}


@pytest.mark.parametrize("control", CONTROLS)
def test_the_check_detects_a_real_injection(control, browser, tmp_path):
    """The controls: the same helpers find an injected image whose handler ran."""
    page = tmp_path / "control.html"
    page.write_text(
        f"<!DOCTYPE html><html><head><title>{REPORT_TITLE}</title></head><body>\n"
        f"<p>a path: work/report</p>{CONTROLS[control]}</body></html>\n"
    )
    dom, log = dump_dom(browser, page, tmp_path)
    problems = problems_of(dom, log, REPORT_TITLE)
    assert "<img> has an event handler attribute onerror=" in " ".join(problems), problems
    assert "the title is 'PWNED', not 'Snakemake Report'" in problems
    expected = "injected ran" if control == "handler" else "Uncaught SyntaxError"
    assert any(problem.startswith("console: ") and expected in problem for problem in problems), problems


def test_folder_names_are_never_run_by_the_shell(tmp_path, demo_data):
    """The shell jobs must quote every path: a folder name is data, never a command
    (``$(...)`` and ``$NAME`` are legal in folder names and not refused)."""
    base = tmp_path / "q $(touch pwned_by_shell) $UNSET_IN_ECHI_TESTS $HOME r"
    linked_copy(demo_data, base / "data")
    config = tmp_path / "shell.yaml"
    settings = {
        "data_root": str(base / "data"),
        "work_dir": str(base / "work"),
        "devices": ["ha"],
        "evaluate_datasets": [],
        "report_spectrograms": 0,
    }
    config.write_text(yaml.safe_dump(settings))
    result = Snakemake(tmp_path)("--configfile", str(config), check=False)
    ran = [str(p) for p in tmp_path.rglob("pwned_by_shell")]
    assert not ran, f"a command in a folder name ran: {ran}"
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    logs = "".join(p.read_text() for p in (base / "work" / "logs").rglob("*.log"))
    assert str(Path.home()) not in logs.replace(str(tmp_path), "")


# ---- layout at 1,400 px (issue 22: the numbers readable) ------------------------------------

WINDOW = (1400, 900)  # a laptop's browser window; the page reads its viewport from innerWidth/innerHeight

LAYOUT_DRIVER = """
<script id="echi-layout">
(function () {
  "use strict";
  const box = (element) => element ? element.getBoundingClientRect().toJSON() : null;
  function finish(out) {
    const pre = document.createElement("pre");
    pre.id = "echi-layout-log";
    pre.textContent = JSON.stringify(out);
    document.body.appendChild(pre);
  }
  function measure() {
    const headline = document.querySelector(".echi-headline table");
    const out = {innerWidth: innerWidth, innerHeight: innerHeight, clientWidth: document.documentElement.clientWidth,
                 headline: box(headline), column: box(headline && headline.closest(".prose")),
                 tables: [...document.querySelectorAll("table")].map(box)};
    // a result's page is shown in a frame beside the menu: its width is the page's
    const path = Object.keys(results).find((p) => p.endsWith(".html"));
    app.setView({content: "html", contentPath: results[path].data_uri, resultPath: path});
    setTimeout(() => { out.frame = box(document.querySelector("iframe")); finish(out); }, 500);
  }
  function start(tries) {
    if (typeof app !== "undefined" && document.querySelector(".echi-headline table")) return setTimeout(measure, 500);
    if (tries > 150) return finish({error: "the landing page has no headline table"});
    setTimeout(() => start(tries + 1), 100);
  }
  window.addEventListener("load", () => start(0));
})();
</script>
"""

FRAMES_DRIVER = """
<script id="echi-frames">
window.addEventListener("load", () => setTimeout(() => {
  const out = {};
  for (const frame of document.querySelectorAll("iframe")) {
    const page = frame.contentDocument.documentElement;
    out[frame.dataset.path] = {clientWidth: page.clientWidth, scrollWidth: page.scrollWidth,
                               tables: [...page.querySelectorAll("table")].map((t) => t.getBoundingClientRect().toJSON())};
  }
  const pre = document.createElement("pre");
  pre.id = "echi-frames-log";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
}, 500));
</script>
"""


def logged(dom: str, name: str) -> dict:
    marker = f'<pre id="{name}">'
    assert marker in dom, f"the driver did not finish: {dom[-2000:]}"
    return json.loads(html.unescape(dom.split(marker, 1)[1].split("</pre>", 1)[0]))


def landing_layout(browser: str, report: str, folder: Path, name: str) -> dict:
    """The landing page of a report at WINDOW: the headline's box, its column's,
    every table's, and the width of the frame a result's page is shown in."""
    page = folder / f"{name}.html"
    page.write_text(report.replace("<head>", "<head>" + LAYOUT_DRIVER, 1))
    dom, _ = dump_dom(browser, page, folder, budget_ms=30_000, window=WINDOW)
    layout = logged(dom, "echi-layout-log")
    assert "error" not in layout, layout
    return layout


def frames_layout(browser: str, pages: dict[str, str], width: int, folder: Path) -> dict:
    """Each page (path -> markup) laid out in a frame ``width`` wide, as the
    report shows it: the page's width, its scrolled width, every table's box."""
    frames = "\n".join(
        f'<iframe data-path="{html.escape(path)}" style="width:{width}px;height:800px;border:0" '
        f'srcdoc="{html.escape(text, quote=True)}"></iframe>'
        for path, text in pages.items()
    )
    page = folder / "frames.html"
    page.write_text(
        f'<!DOCTYPE html><html><head><meta charset="utf-8">{FRAMES_DRIVER}</head><body>{frames}</body></html>'
    )
    dom, _ = dump_dom(browser, page, folder, budget_ms=20_000, window=WINDOW)
    return logged(dom, "echi-frames-log")


def too_wide(width: float, boxes: list[dict]) -> list[str]:
    """The tables that do not fit ``width`` (left of 0 or right of it)."""
    return [
        f"a table from {b['left']:.0f} to {b['right']:.0f} px"
        for b in boxes
        if b["left"] < -0.5 or b["right"] > width + 0.5
    ]


@pytest.fixture(scope="module")
def landing(browser: str, compared, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("landing")
    return landing_layout(browser, (compared.workdir / "report.html").read_text(), folder, "report")


def test_the_landing_page_leads_with_the_headline_at_1400_px(landing):
    """A new user sees the comparison in the first screen: the headline table
    starts within the viewport (not above it: Snakemake centres the landing page
    vertically, which cut off the top of a tall one), and fits in its column."""
    assert landing["innerWidth"] == WINDOW[0]
    headline, column = landing["headline"], landing["column"]
    assert 0 <= headline["top"] < landing["innerHeight"], headline
    assert headline["bottom"] < landing["innerHeight"], headline  # two systems, two devices: all of it
    assert headline["right"] <= column["right"] + 0.5, (headline, column)
    assert too_wide(landing["clientWidth"], landing["tables"]) == []


def wide_comparison(systems: int, keys: Sequence[str]) -> pd.DataFrame:
    """A comparison table as wide as a real one gets: every main key, long
    system names, dB values and improvements with two digits before the point."""
    names = ["passthrough", *(f"baseline_finetuned_lr3e-4_seed{n:04d}" for n in range(1, systems))]
    records = []
    for s, system in enumerate(names):
        for device in ("aria", "ha"):
            for stype in ("individual", "summed"):
                record = {"system": system, "device": device, "segment_type": stype, "segments": 1234}
                record |= {k: (-12.345 if k in ("si_snr", "sdr", "ci_sdr", "pysepm_fwsegsnr") else 1.0) for k in keys}
                record |= {f"{k}_improvement": (-1) ** s * 10.123 * (s > 0) for k in keys}
                records.append(record)
    return pd.DataFrame(records)


def test_the_widest_headline_fits_the_landing_page(browser, compared, tmp_path):
    """The full metric set's six headline keys, six systems with long names,
    in place of the demo's headline: still in its column and on the first screen."""
    table = wide_comparison(6, MAIN_KEYS)
    comparison = tmp_path / "comparison.dev.csv"
    table.to_csv(comparison, index=False)
    fragment = headline_fragment(comparison, "dev")
    assert fragment.count("&#8593;") == 6 + 1  # the six keys, and the caption's legend
    report = (compared.workdir / "report.html").read_text()
    start = report.index("var workflow_desc = ") + len("var workflow_desc = ")
    landing_text, end = json.JSONDecoder().raw_decode(report, start)
    begin = landing_text.index('<div class="echi-headline">')
    landing_text = landing_text[:begin] + fragment + landing_text[landing_text.index("</div>\n", begin) + 7 :]
    layout = landing_layout(browser, report[:start] + json.dumps(landing_text) + report[end:], tmp_path, "widest")
    headline, column = layout["headline"], layout["column"]
    assert 0 <= headline["top"] < layout["innerHeight"], headline
    assert headline["right"] <= column["right"] + 0.5, (headline, column)
    assert too_wide(layout["clientWidth"], layout["tables"]) == []


def test_no_table_of_the_report_is_wider_than_its_page_at_1400_px(browser, landing, compared, tmp_path):
    """Every page the report embeds (the comparison, the official scores, the
    validation, the players), and the widest comparison and official pages the
    full metric set makes, laid out in the frame the report shows them in. The
    control: the official table as it was (one row per device and segment type,
    every key a column) is too wide there, and the check says so."""
    width = round(landing["frame"]["width"])
    assert 1000 < width < WINDOW[0], landing["frame"]
    pages = embedded_pages((compared.workdir / "report.html").read_text())
    assert {Path(p).name for p in pages} >= {"comparison.dev.html", "official.html", "validation.html"}
    assert any("/listen/" in p for p in pages)
    full_keys = metric_keys(resolve_metrics("full"))
    numbers = wide_comparison(2, full_keys).query("system == 'passthrough'").drop(columns="system")
    numbers = numbers[[c for c in numbers.columns if not c.endswith("_improvement")]]
    comparison_page(wide_comparison(13, MAIN_KEYS), tmp_path / "wide_comparison.html", "Systems compared: dev")
    official_page(numbers.assign(sir=math.inf), tmp_path / "wide_official.html", "Official scores: x, dev")
    write_html_table(numbers, tmp_path / "control.html", "Official scores as they were: one column per key")
    for name in ("wide_comparison", "wide_official", "control"):
        pages[name] = (tmp_path / f"{name}.html").read_text()
    layout = frames_layout(browser, pages, width, tmp_path)
    assert set(layout) == set(pages)
    control = layout.pop("control")
    assert too_wide(control["clientWidth"], control["tables"]), control  # the check can fail
    for path, page in layout.items():
        assert page["tables"], path
        assert too_wide(page["clientWidth"], page["tables"]) == [], path
        assert page["scrollWidth"] <= page["clientWidth"], path
