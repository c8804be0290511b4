"""Debian packages the system-level tests need (SLURM, Chromium), installed on demand.

CI runs as root on a Debian image with only the package mirrors reachable: the
SLURM and browser tests install what they need there instead of skipping.
``make test`` says what it will install before the tests start
(``python tests/apt_packages.py``); ``ECHI_NO_APT=1`` installs nothing and
those tests skip, saying how to run them later.
"""

from __future__ import annotations

import os
import shutil
import subprocess

NO_APT = "ECHI_NO_APT"
LATER = "make test-system (as root, or with the packages installed)"


class AptUnavailable(RuntimeError):
    """The packages cannot be installed here; the message says why."""


def apt_install(packages: tuple[str, ...], missing: str, timeout: float = 600) -> None:
    """apt-get update and install ``packages``; ``missing`` says what is lacking
    (it starts every message, so the caller's skip reason names it)."""
    wanted = " ".join(packages)
    if os.environ.get(NO_APT) == "1":
        raise AptUnavailable(
            f"{missing}; {NO_APT}=1, so no apt-get install {wanted}: install it, or run these tests later with {LATER}"
        )
    if os.geteuid() != 0:
        raise AptUnavailable(f"{missing} and not root: cannot apt-get install {wanted}")
    if shutil.which("apt-get") is None:
        raise AptUnavailable(f"{missing} and no apt-get to install {wanted}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AptUnavailable(f"{missing}: {' '.join(command)} took over {timeout:.0f} s") from None
        if result.returncode != 0:
            raise AptUnavailable(
                f"{missing}: {' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
            )


def announcement() -> str | None:
    """What the system-level tests would install on this machine, and how not
    to; None where nothing is missing (or nothing could be installed)."""
    from headless_chromium import PACKAGE, installed
    from slurm_cluster import PACKAGES, missing_programs

    wanted = [*(PACKAGES if missing_programs() else ()), *(() if installed() else (PACKAGE,))]
    if not wanted:
        return None
    if os.environ.get(NO_APT) == "1":
        return f"{NO_APT}=1: the tests that need {' '.join(wanted)} skip; run them later with {LATER}"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return (
            f"{' '.join(wanted)} missing and not installable here (root and apt-get are needed): "
            f"the SLURM and browser tests skip, saying why"
        )
    return (
        f"The SLURM and browser tests will now apt-get install {' '.join(wanted)} on this machine "
        f"(a few minutes, once). To skip those tests instead: {NO_APT}=1 make test; "
        f"run them later with {LATER}."
    )


if __name__ == "__main__":
    if message := announcement():
        print(message, flush=True)
