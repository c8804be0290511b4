"""Audio I/O for the workflow: streaming resample, single reads, atomic writes.

Sessions are ~36 minutes of 7-channel 48 kHz audio, so nothing here holds a
whole file in float64 or reads a file twice. Kept free of torch: the resample
job imports this module and must stay a light process.
"""

from __future__ import annotations

import logging
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from enhancement.data.atomic_write import atomic_output

log = logging.getLogger(__name__)

BLOCK_FRAMES = 1 << 16  # ~1.4 s at 48 kHz: small blocks, few calls
MIN_ENROLMENT_SECONDS = 0.5  # ECHI enrolments are 3-20 s; the baseline needs ~0.33 s at 16 kHz
FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")  # the only stored formats that can hold NaN/Inf
UNKNOWN_SIZE = 0xFFFFFFFF


class AudioError(ValueError):
    """An input audio file that cannot be used; names the file."""


def wav_data_extent(path: Path | str) -> tuple[int | None, int] | None:
    """(declared, present) bytes of a RIFF or RF64 WAVE file's audio, declared
    being None where the header leaves the length unknown; None for other files.

    libsndfile quietly reads what is there, so a file cut short by a failed
    copy, or one whose recorder never wrote the final length, would otherwise
    pass for a shorter recording.
    """
    size = os.path.getsize(path)
    with open(path, "rb") as handle:
        head = handle.read(12)
        if head[8:12] != b"WAVE" or head[:4] not in (b"RIFF", b"RF64"):
            return None
        ds64_data_size = None
        offset = 12
        while offset + 8 <= size:
            handle.seek(offset)
            chunk_id, chunk_size = struct.unpack("<4sI", handle.read(8))
            if chunk_id == b"ds64" and chunk_size >= 16:
                ds64_data_size = struct.unpack("<QQ", handle.read(16))[1]
            if chunk_id == b"data":
                present = size - offset - 8
                if head[:4] == b"RF64" and chunk_size == UNKNOWN_SIZE:
                    return ds64_data_size, present
                if chunk_size == UNKNOWN_SIZE or (chunk_size == 0 and present > 0):
                    return None, present
                return chunk_size, present
            offset += 8 + chunk_size + (chunk_size & 1)
    return None


def audio_info(
    path: Path | str, expected_rate: int | None = None, expected_channels: int | None = None
) -> sf._SoundFileInfo:
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
    extent = wav_data_extent(path)
    if extent is not None and extent[0] is None:
        raise AudioError(
            f"{path}: its header does not say how long the audio is (data size unknown, as a "
            f"recorder or copy that never finished leaves it; {extent[1]} bytes follow), so it "
            "cannot be told from a truncated file; re-copy or re-extract it"
        )
    if extent is not None and extent[1] < extent[0]:
        raise AudioError(
            f"{path} is truncated: its header declares {extent[0]} bytes of audio but only "
            f"{extent[1]} are in the file; re-copy or re-extract it"
        )
    if expected_channels is not None and info.channels != expected_channels:
        raise AudioError(
            f"{path} has {info.channels} channels; {expected_channels} were expected for this "
            "device. Is it the right file?"
        )
    if expected_rate is not None and info.samplerate != expected_rate:
        log.warning(
            "%s is at %d Hz, not the expected %d Hz; using it at %d Hz",
            path,
            info.samplerate,
            expected_rate,
            info.samplerate,
        )
    return info


def clip_in_place(block: np.ndarray) -> int:
    """Clip to [-1, 1] (the PCM_16 range); returns how many samples were beyond it.
    Compares without ``np.abs``, whose float copy would double a whole-session output."""
    over = int(np.count_nonzero(block > 1.0)) + int(np.count_nonzero(block < -1.0))
    if over:
        np.clip(block, -1.0, 1.0, out=block)
    return over


def check_min_duration(path: Path | str, info: sf._SoundFileInfo, min_seconds: float) -> None:
    """An AudioError naming ``path`` when it is shorter than ``min_seconds``
    (a damaged file, caught before a derived file gets the blame)."""
    if info.frames < min_seconds * info.samplerate:
        raise AudioError(
            f"{path} is only {info.frames / info.samplerate:.3f} s long ({info.frames} frame(s) at "
            f"{info.samplerate} Hz); at least {min_seconds:g} s are needed; re-copy or re-extract it"
        )


def check_finite(block: np.ndarray, path: Path | str, first_frame: int = 0, rate: int | None = None) -> None:
    """An AudioError naming ``path`` if ``block`` (frames x channels, or 1-D)
    holds NaN or Inf: resampling would smear it into clicks, a system into anything."""
    finite = np.isfinite(block)
    if finite.all():
        return
    rows = finite.all(axis=1) if finite.ndim == 2 else finite
    frame = first_frame + int(np.argmin(rows))
    when = f", {frame / rate:.3f} s in" if rate else ""
    raise AudioError(
        f"{path} holds NaN or Inf samples (the first at frame {frame}{when}); a recording must be "
        "finite: re-export it or fix the samples"
    )


def read_blocks(
    reader: sf.SoundFile, path: Path | str, info: sf._SoundFileInfo, block_frames: int = BLOCK_FRAMES
) -> Iterator[np.ndarray]:
    """float32 blocks (frames x channels) of an open file, each checked: a decoder
    error, a file ending before its header's length, or NaN/Inf (float formats)
    is an AudioError naming ``path``."""
    check = info.subtype in FLOAT_SUBTYPES
    frames = 0
    try:
        for block in reader.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            if check:
                check_finite(block, path, frames, info.samplerate)
            frames += len(block)
            yield block
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(
            f"{path} could not be read after frame {frames} of {info.frames} ({exc}); it is damaged "
            "or truncated: re-copy or re-extract it"
        ) from exc
    if frames != info.frames:
        raise AudioError(
            f"{path}: its header says {info.frames} frames but only {frames} could be read; it is "
            "damaged or truncated: re-copy or re-extract it"
        )


def resample_file(
    src: Path | str,
    dst: Path | str,
    rate: int,
    block_frames: int = BLOCK_FRAMES,
    expected_rate: int | None = None,
    expected_channels: int | None = None,
    min_seconds: float = 0.0,
) -> int:
    """Resample ``src`` to ``rate`` Hz into ``dst`` (PCM_16), block by block.

    Memory is a few blocks whatever the file length. The result equals a
    one-shot ``soxr.resample`` of the whole file (same length, same
    samples). Returns the number of frames written. Every problem of the
    input (too short, damaged, NaN/Inf) is reported naming ``src``, never
    left for a job reading ``dst`` to find.
    """
    info = audio_info(src, expected_rate, expected_channels)
    check_min_duration(src, info, min_seconds)
    if round(info.frames * rate / info.samplerate) == 0:
        raise AudioError(
            f"{src} is too short to resample: {info.frames} frame(s) at {info.samplerate} Hz give "
            f"no audio at {rate} Hz; re-copy or re-extract it"
        )
    clipped = 0
    written = 0
    with atomic_output(dst) as tmp:
        with (
            sf.SoundFile(str(src)) as reader,
            sf.SoundFile(
                str(tmp), "w", samplerate=rate, channels=info.channels, subtype="PCM_16", format="WAV"
            ) as writer,
        ):
            stream = soxr.ResampleStream(info.samplerate, rate, info.channels, dtype="float32")
            for block in read_blocks(reader, src, info, block_frames):
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
    log.info(
        "resampled %s (%d Hz, %d ch, %d frames) -> %s (%d Hz, %d frames)",
        src,
        info.samplerate,
        info.channels,
        info.frames,
        dst,
        rate,
        written,
    )
    return written


def read_channels_first(path: Path | str, out: np.ndarray | None = None) -> tuple[np.ndarray, int]:
    """Whole file as float32 ``[channels, frames]``, contiguous, read once.

    Filled block by block into one preallocated array, so the peak is the
    session plus one block (no interleaved copy, no float64). ``out``, when
    given, is that array (same shape, float32): a file read again costs no
    second copy. A damaged file or NaN/Inf samples are an AudioError naming
    ``path`` (see read_blocks).
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
        for block in read_blocks(reader, path, info):
            audio[:, filled : filled + len(block)] = block.T
            filled += len(block)
    return audio, info.samplerate


def write_pcm16_atomically(path: Path | str, samples: np.ndarray, rate: int) -> None:
    """Write 1-D float samples in [-1, 1] as a PCM_16 mono WAV, atomically."""
    with atomic_output(path) as tmp:
        sf.write(str(tmp), samples, rate, subtype="PCM_16", format="WAV")
