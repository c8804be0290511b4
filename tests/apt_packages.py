"""Debian packages the system-level tests need (SLURM, Chromium), installed on demand.

CI runs as root on a Debian image with only the package mirrors reachable: the
SLURM and browser tests install what they need there instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import subprocess


class AptUnavailable(RuntimeError):
    """The packages cannot be installed here; the message says why."""


def apt_install(packages: tuple[str, ...], missing: str, timeout: float = 600) -> None:
    """apt-get update and install ``packages``; ``missing`` says what is lacking
    (it starts every message, so the caller's skip reason names it)."""
    wanted = " ".join(packages)
    if os.geteuid() != 0:
        raise AptUnavailable(f"{missing} and not root: cannot apt-get install {wanted}")
    if shutil.which("apt-get") is None:
        raise AptUnavailable(f"{missing} and no apt-get to install {wanted}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"],
                    ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]):
        try:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AptUnavailable(f"{missing}: {' '.join(command)} took over {timeout:.0f} s") from None
        if result.returncode != 0:
            raise AptUnavailable(
                f"{missing}: {' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
