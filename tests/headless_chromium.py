"""Headless Chromium for the report tests: found, or installed with apt-get.

``chromium()`` returns the browser's path, installing Debian's ``chromium``
package when it is missing (root and apt-get needed); ``BrowserUnavailable``
says why it cannot be had. ``dump_dom(page, folder)`` opens a local HTML file
in a fresh profile (in a window of a given size, where layout is measured),
lets its scripts run for a virtual time budget, and returns the serialized DOM
and the browser's log (console messages included). The
browser is kept off the network: no QUIC, no background or component fetches,
no sync; the pages under test are local files.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from apt_packages import AptUnavailable, apt_install

PACKAGE = "chromium"
CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
)


class BrowserUnavailable(RuntimeError):
    """No headless Chromium can be had on this machine."""


def installed() -> str | None:
    return next((path for path in CANDIDATES if os.access(path, os.X_OK)), None)


def chromium(timeout: float = 900) -> str:
    """The path of Chromium, apt-get installing it first where it is missing."""
    found = installed()
    if found:
        return found
    try:
        apt_install((PACKAGE,), f"no Chromium at {' or '.join(CANDIDATES)}", timeout)
    except AptUnavailable as exc:
        raise BrowserUnavailable(str(exc)) from None
    found = installed()
    if not found:
        raise BrowserUnavailable(f"installed {PACKAGE} but found no Chromium at {' or '.join(CANDIDATES)}")
    return found


def dump_dom(
    browser: str,
    page: Path,
    folder: Path,
    budget_ms: int = 10_000,
    timeout: float = 120,
    window: tuple[int, int] | None = None,
) -> tuple[str, str]:
    """(DOM after the page's scripts ran, browser log) of a local HTML file,
    in a fresh profile under ``folder``; ``window``: the window's (width,
    height) in CSS pixels, where layout matters (the viewport is as wide, and
    less high by the window's frame: a page reads it as innerHeight)."""
    profile = folder / f"profile-{page.stem}"
    profile.mkdir(parents=True)
    size = [f"--window-size={window[0]},{window[1]}"] if window else []
    command = [
        browser,
        *FLAGS,
        *size,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env={**os.environ, "HOME": str(profile)}
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise AssertionError(f"chromium --dump-dom {page} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout, result.stderr
