"""The sessions manifest: which (session, device, partner) outputs a dataset needs.

``metadata/sessions.{dataset}.csv`` has the header
``session,aria_pos,ha_pos,pos1,pos2,pos3,pos4``: the seat (1-4) of each
device's wearer, and the participant at each seat. A device's partners are
the participants at the other three seats; an empty ``*_pos`` means that
device did not record the session.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from enhancement.data.challenge import DEVICES, MANIFEST, SEATS, SUBMISSION_FILE

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

    @property
    def stem(self) -> str:
        """``{session}.{device}.{pid}``: the name of its submission file, reference and segment list."""
        return Path(SUBMISSION_FILE.format(session=self.session, device=self.device, pid=self.pid)).stem

    def in_data_root(self, data_root: Path | str, template: str) -> Path:
        """Its file of the challenge's layout under ``data_root``: ``template`` is
        ``challenge.REFERENCE``, ``challenge.SEGMENTS`` or the like."""
        return Path(data_root) / template.format(
            dataset=self.dataset, session=self.session, device=self.device, pid=self.pid
        )


def manifest_path(data_root: Path | str, dataset: str) -> Path:
    return Path(data_root) / MANIFEST.format(dataset=dataset)


def check_name(value: str, what: str, where: str) -> str:
    """Names become path components: allow only [A-Za-z0-9_-]+."""
    if not _NAME.fullmatch(value):
        raise ManifestError(
            f"{where}: {what} {value!r} is not a valid name (only letters, digits, '_' and '-'); fix the manifest"
        )
    return value


def parse_rows(rows: Iterable[tuple[int, dict[str, str]]], dataset: str, source: str) -> list[Session]:
    """Check and convert csv rows ((line, dict keyed by COLUMNS) pairs) to sessions."""
    sessions: list[Session] = []
    seen: dict[str, int] = {}
    for line, row in rows:
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
        if wearer["aria"] is not None and wearer["aria"] == wearer["ha"]:
            raise ManifestError(
                f"{where}: field 'ha_pos' = '{wearer['ha']}' is also aria_pos: the Aria glasses and "
                "the hearing aids are worn by different participants; fix the seats"
            )
        pids = tuple((row.get(seat) or "").strip() for seat in SEATS)
        used = {i for d in DEVICES if wearer[d] is not None for i in range(1, 5) if i != wearer[d]}
        seat_of: dict[str, int] = {}
        for i, pid in enumerate(pids, start=1):
            if pid:
                check_name(pid, f"field 'pos{i}'", where)
                if pid in seat_of:
                    raise ManifestError(
                        f"{where}: field 'pos{i}' = {pid!r} is also at seat {seat_of[pid]} "
                        f"({seat_role(seat_of[pid], wearer)}); one participant has one seat: "
                        "fix the pids"
                    )
                seat_of[pid] = i
            elif i in used:
                raise ManifestError(f"{where}: field 'pos{i}' is empty but seat {i} is a partner of a recording device")
        sessions.append(Session(dataset, name, wearer, pids))  # type: ignore[arg-type]
    return sessions


def seat_role(seat: int, wearer: dict[str, int | None]) -> str:
    """ "field 'pos2', the aria wearer" and the like, for messages."""
    worn = [d for d in DEVICES if wearer.get(d) == seat]
    return f"field 'pos{seat}'" + (f", the {worn[0]} wearer" if worn else "")


def manifest_text(path: Path) -> str:
    """The manifest as text: UTF-8, with or without a byte-order mark (as
    spreadsheets save it); any other encoding is an error naming the line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ManifestError(
            f"{path}, line {line}: byte {data[exc.start : exc.start + 1]!r} is not UTF-8 text; "
            "save the manifest as UTF-8 (CSV UTF-8)"
        ) from None


def check_header(header: list[str] | None, path: Path) -> list[str]:
    """The column names, stripped of spaces; every column present, none twice."""
    if not header:
        raise ManifestError(f"{path} is empty; its first line must be the header {','.join(COLUMNS)}")
    names = [name.strip() for name in header]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ManifestError(f"{path}: column(s) {twice} appear more than once in the header {header}; keep one of each")
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise ManifestError(
            f"{path}: missing column(s) {missing} in the header found, {header}; the header must be {','.join(COLUMNS)}"
        )
    return names


def csv_rows(text: str, path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, row) of each session of the manifest. A row with more or fewer
    fields than the header is an error (a field would be dropped or left empty),
    and so is a manifest without rows (an empty submission would pass)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = check_header(next(reader, None), path)
    rows = []
    for fields in reader:
        if not any(f.strip() for f in fields):
            continue  # a blank line
        if len(fields) != len(header):
            raise ManifestError(
                f"{path}, row {reader.line_num}: {len(fields)} fields where the header has "
                f"{len(header)} ({','.join(header)}); fix the row"
            )
        rows.append((reader.line_num, dict(zip(header, fields, strict=True))))
    if not rows:
        raise ManifestError(
            f"{path} lists no sessions (it has only its header); add a row per session, or leave "
            "the dataset out (--config datasets=...)"
        )
    return rows


def read_manifest(path: Path | str, dataset: str) -> list[Session]:
    """Read and check ``metadata/sessions.{dataset}.csv``."""
    path = Path(path)
    try:
        text = manifest_text(path)
    except FileNotFoundError:
        raise ManifestError(f"sessions manifest {path} not found: check data_root and datasets in the config") from None
    return parse_rows(csv_rows(text, path), dataset, str(path))


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
