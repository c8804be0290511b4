"""A small synthetic dataset in the exact ECHI layout, for the demo and the tests.

Two short "conversations" of four synthetic talkers: harmonic voices with
their own pitch and timbre taking turns, heard by a 7-channel Aria and a
4-channel hearing-aid device with per-channel delays and a noise floor. One
session has no hearing-aid recording. References and segment lists are the
partners' clean speech at the device, as in the dev set. Seeded: the same
bytes on every machine.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from enhancement.data.atomic_write import atomic_output
from enhancement.data.challenge import DEVICE_CHANNELS, OUTPUT_RATE, RAW_RATE
from enhancement.data.manifest import COLUMNS, Session, manifest_path

log = logging.getLogger(__name__)

REF_RATE = OUTPUT_RATE  # references are at the submission rate
DATASET = "dev"
ENROLMENT_SECONDS = 5.0


@dataclass(frozen=True)
class DemoSession:
    session: str
    seconds: float
    aria_pos: int | None
    ha_pos: int | None
    pids: tuple[str, str, str, str]


# Long enough that the official evaluation's 30-s rule leaves most segments scored.
DEMO_SESSIONS = (
    DemoSession("dev_02", 80.0, 1, 3, ("P301", "P302", "P303", "P304")),
    DemoSession("dev_03", 72.0, 2, None, ("P305", "P306", "P307", "P308")),
)


def demo_sessions() -> list[Session]:
    """The demo manifest's rows, known before the files exist."""
    return [Session(DATASET, s.session, {"aria": s.aria_pos, "ha": s.ha_pos}, s.pids) for s in DEMO_SESSIONS]


def demo_files(root: Path | str) -> list[Path]:
    """Every file :func:`write_demo_dataset` writes."""
    root = Path(root)
    files = [manifest_path(root, DATASET)]
    for s in demo_sessions():
        for device in s.devices():
            files.append(root / device / DATASET / f"{s.session}.{device}.wav")
            for pid in s.partners_of(device):
                stem = f"{s.session}.{device}.{pid}"
                files.append(root / "ref" / DATASET / f"{stem}.wav")
                files.append(root / "metadata" / "ref" / DATASET / f"{stem}.csv")
    pids = sorted({pid for s in DEMO_SESSIONS for pid in s.pids})
    files.extend(root / "participant" / DATASET / f"{pid}.wav" for pid in pids)
    return files


def _voice(rng: np.random.Generator, seconds: float, f0: float, brightness: float) -> np.ndarray:
    """Syllable-like bursts of a harmonic voice with a gliding pitch."""
    n = int(seconds * RAW_RATE)
    out = np.zeros(n, dtype=np.float64)
    t = 0
    while t < n:
        length = int(rng.uniform(0.12, 0.3) * RAW_RATE)
        end = min(n, t + length)
        k = np.arange(end - t) / RAW_RATE
        pitch = f0 * (1 + 0.08 * rng.standard_normal()) * (1 + 0.1 * k / max(k[-1], 1e-3))
        phase = 2 * np.pi * np.cumsum(np.broadcast_to(pitch, k.shape)) / RAW_RATE
        formant = rng.uniform(400, 2500)
        burst = np.zeros_like(k)
        # sin(h * phase) as the imaginary part of rotor**h, one complex product
        # per harmonic instead of a sine (the demo data take seconds, not tens)
        rotor = np.exp(1j * phase)
        harmonic = rotor.copy()
        for h in range(1, int(4000 / f0)):
            gain = np.exp(-(((h * f0 - formant) / (600 * brightness)) ** 2)) + 0.3 / h
            burst += gain * harmonic.imag
            harmonic *= rotor
        out[t:end] = burst * np.hanning(end - t)
        t = end + int(rng.uniform(0.02, 0.12) * RAW_RATE)
    return out / (np.abs(out).max() + 1e-9)


def _turns(rng: np.random.Generator, n: int, talkers: int) -> np.ndarray:
    """0/1 activity per talker: turns of 1-4 s, with the odd overlap; everyone
    speaks once in each round, in a new order each round."""
    active = np.zeros((talkers, n), dtype=bool)
    order: list[int] = []
    t = 0
    while t < n:
        if not order:
            order = list(rng.permutation(talkers))
        who = order.pop()
        length = int(rng.uniform(1.0, 4.0) * RAW_RATE)
        active[who, t : t + length] = True
        t += length - int(rng.uniform(-0.3, 0.4) * RAW_RATE)
    return active


def _segments(active: np.ndarray) -> list[tuple[int, int]]:
    """Start/end (16 kHz samples) of each run of activity at 48 kHz."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], active.astype(np.int8), [0]])))
    return [(int(s) // 3, int(e) // 3) for s, e in zip(edges[::2], edges[1::2])]


def _write(path: Path, data: np.ndarray, rate: int) -> None:
    with atomic_output(path) as tmp:
        sf.write(str(tmp), data.astype(np.float32), rate, subtype="PCM_16", format="WAV")


def write_demo_dataset(root: Path | str, seed: int = 2026) -> list[Path]:
    """Write the demo dataset under ``root``; returns the files written."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    pids = sorted({pid for s in DEMO_SESSIONS for pid in s.pids})
    voices = {pid: (rng.uniform(95, 230), rng.uniform(0.6, 1.6)) for pid in pids}
    for pid in pids:
        f0, brightness = voices[pid]
        _write(
            root / "participant" / DATASET / f"{pid}.wav",
            0.5 * _voice(rng, ENROLMENT_SECONDS, f0, brightness),
            RAW_RATE,
        )

    sessions = demo_sessions()
    for spec, s in zip(DEMO_SESSIONS, sessions):
        n = int(spec.seconds * RAW_RATE)
        active = _turns(rng, n, 4)
        speech = np.stack([_voice(rng, spec.seconds, *voices[pid]) for pid in s.pids]) * active
        for device in s.devices():
            channels = DEVICE_CHANNELS[device]
            wearer = s.wearer_seat[device] - 1
            gains = rng.uniform(0.15, 0.3, size=(channels, 4))
            gains[:, wearer] *= 2.0  # the wearer is the loudest talker
            delays = rng.integers(0, 24, size=(channels, 4))
            mix = 0.01 * rng.standard_normal((channels, n))
            for ch in range(channels):
                for talker in range(4):
                    mix[ch, delays[ch, talker] :] += gains[ch, talker] * speech[talker, : n - delays[ch, talker]]
            _write(root / device / DATASET / f"{s.session}.{device}.wav", mix.T, RAW_RATE)
            for talker, pid in enumerate(s.pids):
                if talker == wearer:
                    continue
                image = np.zeros(n)
                image[delays[0, talker] :] = gains[0, talker] * speech[talker, : n - delays[0, talker]]
                stem = f"{s.session}.{device}.{pid}"
                _write(root / "ref" / DATASET / f"{stem}.wav", soxr.resample(image, RAW_RATE, REF_RATE), REF_RATE)
                with atomic_output(root / "metadata" / "ref" / DATASET / f"{stem}.csv") as tmp:
                    with open(tmp, "w", newline="") as handle:
                        csv.writer(handle).writerows(
                            (i, start, end) for i, (start, end) in enumerate(_segments(active[talker]))
                        )

    with atomic_output(manifest_path(root, DATASET)) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for spec in DEMO_SESSIONS:
            writer.writerow([spec.session, spec.aria_pos or "", spec.ha_pos or "", *spec.pids])
    files = demo_files(root)
    log.info("wrote the demo dataset (%d files) under %s", len(files), root)
    return files
