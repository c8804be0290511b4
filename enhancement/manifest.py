"""The sessions manifest: which (session, device, partner) outputs a dataset needs.

``metadata/sessions.{dataset}.csv`` has the header
``session,aria_pos,ha_pos,pos1,pos2,pos3,pos4``: the seat (1-4) of each
device's wearer, and the participant at each seat. A device's partners are
the participants at the other three seats; an empty ``*_pos`` means that
device did not record the session.
"""

from __future__ import annotations

import csv
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from enhancement.challenge import DEVICES, MANIFEST, SEATS

log = logging.getLogger(__name__)

COLUMNS = ("session",) + tuple(f"{d}_pos" for d in DEVICES) + SEATS
NAME_PATTERN = r"[A-Za-z0-9_-]+"
_NAME = re.compile(NAME_PATTERN)


class ManifestError(ValueError):
    """A manifest that cannot be turned into targets; names file, row, field."""


@dataclass(frozen=True)
class Session:
    """One manifest row: wearer seat per device (None: no recording), pid per seat."""

    dataset: str
    session: str
    wearer_seat: dict[str, int | None]
    pids: tuple[str, str, str, str]

    def devices(self) -> list[str]:
        return [d for d in DEVICES if self.wearer_seat.get(d) is not None]

    def partners_of(self, device: str) -> list[str]:
        """The pids at the three seats other than the device wearer's."""
        seat = self.wearer_seat[device]
        if seat is None:
            return []
        return [pid for i, pid in enumerate(self.pids, start=1) if i != seat]


@dataclass(frozen=True, order=True)
class Target:
    """One output file of a submission."""

    dataset: str
    session: str
    device: str
    pid: str


def manifest_path(data_root: Path | str, dataset: str) -> Path:
    return Path(data_root) / MANIFEST.format(dataset=dataset)


def check_name(value: str, what: str, where: str) -> str:
    """Names become path components: allow only [A-Za-z0-9_-]+."""
    if not _NAME.fullmatch(value):
        raise ManifestError(
            f"{where}: {what} {value!r} is not a valid name (only letters, digits, '_' and '-'); "
            "fix the manifest"
        )
    return value


def parse_rows(rows: Iterable[dict[str, str]], dataset: str, source: str) -> list[Session]:
    """Check and convert csv rows (dicts keyed by COLUMNS) to sessions."""
    sessions: list[Session] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        where = f"{source}, row {line}"
        name = check_name((row.get("session") or "").strip(), "field 'session'", where)
        where = f"{where} (session {name})"
        if name in seen:
            raise ManifestError(f"{where}: duplicate session, already on row {seen[name]}")
        seen[name] = line
        wearer: dict[str, int | None] = {}
        for device in DEVICES:
            raw = (row.get(f"{device}_pos") or "").strip()
            if raw == "":
                wearer[device] = None
            elif raw in {"1", "2", "3", "4"}:
                wearer[device] = int(raw)
            else:
                raise ManifestError(
                    f"{where}: field '{device}_pos' = {raw!r} is not a seat 1-4 "
                    "(or empty when the device did not record)"
                )
        pids = tuple((row.get(seat) or "").strip() for seat in SEATS)
        used = {i for d in DEVICES if wearer[d] is not None for i in range(1, 5) if i != wearer[d]}
        for i, pid in enumerate(pids, start=1):
            if pid:
                check_name(pid, f"field 'pos{i}'", where)
            elif i in used:
                raise ManifestError(
                    f"{where}: field 'pos{i}' is empty but seat {i} is a partner of a recording device"
                )
        sessions.append(Session(dataset, name, wearer, pids))  # type: ignore[arg-type]
    return sessions


def read_manifest(path: Path | str, dataset: str) -> list[Session]:
    """Read and check ``metadata/sessions.{dataset}.csv``."""
    path = Path(path)
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
            if missing:
                raise ManifestError(
                    f"{path}: missing column(s) {missing}; the header must be {','.join(COLUMNS)}"
                )
            return parse_rows(reader, dataset, str(path))
    except FileNotFoundError:
        raise ManifestError(
            f"sessions manifest {path} not found: check data_root and datasets in the config"
        ) from None


def targets_of(
    sessions: Iterable[Session], devices: Iterable[str], on_skip: Callable[[str], None] = log.info
) -> list[Target]:
    """One target per (session, recorded device, partner); each device without
    a recording is reported once through ``on_skip`` and skipped."""
    devices = list(devices)
    targets = []
    for s in sessions:
        for device in devices:
            if s.wearer_seat.get(device) is None:
                on_skip(f"{s.dataset}/{s.session}: no {device} recording (empty {device}_pos), skipped")
                continue
            targets.extend(Target(s.dataset, s.session, device, pid) for pid in s.partners_of(device))
    return targets


def spread(targets: Sequence[Target], count: int) -> list[Target]:
    """Up to ``count`` of ``targets`` that cover sessions and devices before
    partners: the first partner of every (session, device) in manifest order,
    then the second ones, and so on. A report with a dozen figures then shows
    each device and as many sessions as it can, at any manifest size."""
    seen: dict[tuple[str, str, str], int] = {}
    ranked = []
    for index, t in enumerate(targets):
        key = (t.dataset, t.session, t.device)
        seen[key] = seen.get(key, 0) + 1
        ranked.append((seen[key], index, t))
    return [t for _, _, t in sorted(ranked)[: max(0, count)]]
