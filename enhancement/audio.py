"""Audio I/O for the workflow: streaming resample, single reads, atomic writes.

Sessions are ~36 minutes of 7-channel 48 kHz audio, so nothing here holds a
whole file in float64 or reads a file twice. Kept free of torch: the resample
job imports this module and must stay a light process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 16  # ~1.4 s at 48 kHz: small blocks, few calls


class AudioError(ValueError):
    """An input audio file that cannot be used; names the file."""


class OutputWriteError(OSError):
    """An output folder that cannot be written; names it."""


@contextlib.contextmanager
def atomic_output(path: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it into place on success.

    A crash or error leaves no file at ``path`` (the temporary one is removed),
    so a half-written result can never stand in for a finished one. Leftovers
    of a writer killed outright (``kill -9``) are removed on the next attempt.
    """
    path = Path(path)
    prefix = f".{path.name}."
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for stale in path.parent.glob(f"{glob_escape(prefix)}*.part"):
            stale.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=".part", dir=path.parent)
    except OSError as exc:
        raise OutputWriteError(
            f"cannot write {path.name} in {path.parent}: {exc.strerror or exc}; "
            "check that the folder (work_dir) is writable and the disk not full"
        ) from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes 0600; outputs are shared files
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def glob_escape(text: str) -> str:
    return text.replace("[", "[[]").replace("*", "[*]").replace("?", "[?]")


def wav_data_shortfall(path: Path | str) -> tuple[int, int] | None:
    """(declared, present) bytes of a RIFF/WAVE file's audio when the file is
    shorter than its header says, else None.

    libsndfile quietly reads what is there, so a file cut short by a failed
    copy would otherwise pass for a shorter recording.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        if handle.read(12)[8:12] != b"WAVE":
            return None
        handle.seek(0)
        if handle.read(4) != b"RIFF":
            return None
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"data":
                if chunk_size in (0, 0xFFFFFFFF):  # streamed: length unknown
                    return None
                present = size - offset - 8
                return (chunk_size, present) if present < chunk_size else None
            offset += 8 + chunk_size + (chunk_size & 1)
    return None


def audio_info(path: Path | str, expected_rate: int | None = None,
               expected_channels: int | None = None) -> sf._SoundFileInfo:
    """Header of an audio file, or an AudioError saying what is wrong with it
    and what to do. A rate other than ``expected_rate`` is only a warning:
    the file is used at its actual rate."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"audio file {path} does not exist; check data_root and the dataset layout")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path} is not a readable audio file ({exc}); re-copy or re-extract it") from exc
    if info.frames == 0:
        raise AudioError(f"{path} has no audio (0 frames); re-copy or re-extract it")
    shortfall = wav_data_shortfall(path)
    if shortfall:
        raise AudioError(
            f"{path} is truncated: its header declares {shortfall[0]} bytes of audio but only "
            f"{shortfall[1]} are in the file; re-copy or re-extract it"
        )
    if expected_channels is not None and info.channels != expected_channels:
        raise AudioError(
            f"{path} has {info.channels} channels; {expected_channels} were expected for this "
            "device. Is it the right file?"
        )
    if expected_rate is not None and info.samplerate != expected_rate:
        log.warning("%s is at %d Hz, not the expected %d Hz; using it at %d Hz",
                    path, info.samplerate, expected_rate, info.samplerate)
    return info


def clip_in_place(block: np.ndarray) -> int:
    """Clip to [-1, 1] (the PCM_16 range); returns how many samples were beyond it.
    Compares without ``np.abs``, whose float copy would double a whole-session output."""
    over = int(np.count_nonzero(block > 1.0)) + int(np.count_nonzero(block < -1.0))
    if over:
        np.clip(block, -1.0, 1.0, out=block)
    return over


def resample_file(src: Path | str, dst: Path | str, rate: int, block_frames: int = BLOCK_FRAMES,
                  expected_rate: int | None = None, expected_channels: int | None = None) -> int:
    """Resample ``src`` to ``rate`` Hz into ``dst`` (PCM_16), block by block.

    Memory is a few blocks whatever the file length. The result equals a
    one-shot ``soxr.resample`` of the whole file (same length, same
    samples). Returns the number of frames written.
    """
    info = audio_info(src, expected_rate, expected_channels)
    clipped = 0
    written = 0
    with atomic_output(dst) as tmp:
        with sf.SoundFile(str(src)) as reader, sf.SoundFile(
            str(tmp), "w", samplerate=rate, channels=info.channels, subtype="PCM_16", format="WAV"
        ) as writer:
            stream = soxr.ResampleStream(info.samplerate, rate, info.channels, dtype="float32")
            for block in reader.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
                out = stream.resample_chunk(block)
                clipped += clip_in_place(out)
                writer.write(out)
                written += len(out)
            out = stream.resample_chunk(np.zeros((0, info.channels), np.float32), last=True)
            clipped += clip_in_place(out)
            writer.write(out)
            written += len(out)
    if clipped:
        log.warning("%s: %d samples beyond [-1, 1] after resampling were clipped", dst, clipped)
    log.info("resampled %s (%d Hz, %d ch, %d frames) -> %s (%d Hz, %d frames)",
             src, info.samplerate, info.channels, info.frames, dst, rate, written)
    return written


def read_channels_first(path: Path | str, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Whole file as float32 ``[channels, frames]``, contiguous, read once.

    Filled block by block into one preallocated array, so the peak is the
    session plus one block (no interleaved copy, no float64). ``out``, when
    given, is that array (same shape, float32): a file read again costs no
    second copy.
    """
    info = audio_info(path)
    if out is None:
        audio = np.empty((info.channels, info.frames), dtype=np.float32)
    elif out.shape != (info.channels, info.frames) or out.dtype != np.float32:
        raise AudioError(
            f"{path}: is now {info.channels} x {info.frames} frames, but the buffer to read "
            f"it into is {out.dtype} {out.shape}; was the file replaced during the job?"
        )
    else:
        audio = out
    filled = 0
    with sf.SoundFile(str(path)) as reader:
        for block in reader.blocks(blocksize=BLOCK_FRAMES, dtype="float32", always_2d=True):
            audio[:, filled : filled + len(block)] = block.T
            filled += len(block)
    if filled != info.frames:
        raise AudioError(f"{path}: header says {info.frames} frames but {filled} could be read")
    return audio, info.samplerate


def write_pcm16_atomically(path: Path | str, samples: np.ndarray, rate: int) -> None:
    """Write 1-D float samples in [-1, 1] as a PCM_16 mono WAV, atomically."""
    with atomic_output(path) as tmp:
        sf.write(str(tmp), samples, rate, subtype="PCM_16", format="WAV")
