"""One enhance job: a (dataset, session, device) through one system, all partners.

The device audio and the system are loaded once per job; ``process_session``
is called once per partner, or ``process_partners`` once for all of them when
the system has it. Every output is checked before it is written
(atomically), so a misbehaving plugin fails loudly instead of producing a
submission that only the evaluation would reject.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from enhancement.data.audio import (
    MIN_ENROLMENT_SECONDS,
    audio_info,
    check_min_duration,
    clip_in_place,
    read_channels_first,
    write_pcm16_atomically,
)
from enhancement.data.challenge import DEVICE_CHANNELS, OUTPUT_RATE, RAW_RATE, expected_length
from enhancement.data.outputs import make_read_only
from enhancement.systems.args import LAUNCH_DIR_VARIABLE, ArgsError, SystemArgs, build_system, load_args
from enhancement.systems.plugins import load_plugins, plugin_dirs
from enhancement.systems.registry import get_enhancement_class
from enhancement.systems.supervise import run_supervised

log = logging.getLogger(__name__)

LENGTH_TOLERANCE_S = 0.020


class OutputError(ValueError):
    """A system returned something that cannot be a submission file."""


class SystemFailed(RuntimeError):
    """``process_session`` raised; names the system and the target."""


@dataclass(frozen=True)
class SessionDevice:
    dataset: str
    session: str
    device: str

    def label(self, pid: str | None = None) -> str:
        base = f"dataset {self.dataset}, session {self.session}, device {self.device}"
        return base if pid is None else f"{base}, pid {pid}"


def to_submission_samples(output: Any, expected: int, system: str, where: str) -> np.ndarray:
    """Check one system output and make it exactly ``expected`` float32 samples.

    1-D after squeezing, finite, length within 20 ms of ``expected`` (then
    padded or trimmed), values beyond [-1, 1] clipped with a warning.
    """
    samples = as_numpy(output, system, where)
    if samples.dtype.kind in "iu":
        raise OutputError(
            f"{system} returned integer samples ({samples.dtype}) for {where}; return float audio in "
            "[-1, 1] (int16 PCM divided by 32768)"
        )
    if samples.dtype.kind != "f":
        raise OutputError(f"{system} returned {samples.dtype} data for {where}; expected real audio")
    samples = samples.squeeze()
    if samples.ndim != 1:
        raise OutputError(
            f"{system} returned shape {tuple(np.asarray(output).shape)} for {where}; "
            "expected one channel (1-D, or squeezable to 1-D)"
        )
    samples = samples.astype(np.float32, copy=False)
    bad = samples.size - int(np.count_nonzero(np.isfinite(samples)))
    if bad:
        raise OutputError(f"{system} returned {bad} NaN/Inf samples for {where}")
    tolerance = round(LENGTH_TOLERANCE_S * OUTPUT_RATE)
    if abs(len(samples) - expected) > tolerance:
        raise OutputError(
            f"{system} returned {len(samples)} samples for {where}; expected {expected} "
            f"({expected / OUTPUT_RATE:.3f} s at {OUTPUT_RATE} Hz, tolerance {tolerance}). "
            "Is the output at 16 kHz and the whole session long?"
        )
    if len(samples) != expected:
        samples = np.pad(samples, (0, max(0, expected - len(samples))))[:expected]
    if not samples.flags.writeable:
        samples = samples.copy()
    clipped = clip_in_place(samples)
    if clipped:
        log.warning("%s: %s returned %d samples beyond [-1, 1]; clipped", where, system, clipped)
    return samples


def describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r}); a system must return its output, not exit"
    return f"{type(exc).__name__}: {exc}"


def as_numpy(output: Any, system: str, where: str) -> np.ndarray:
    """A system's output as a numpy array, whatever tensor it is (a GPU or
    half-precision tensor is converted; a tensor without data is an error)."""
    if not hasattr(output, "detach"):
        return np.asarray(output)
    if getattr(output, "is_meta", False):
        raise OutputError(f"{system} returned a 'meta' tensor (shape only, no data) for {where}")
    try:
        tensor = output.detach().cpu()
        if tensor.is_floating_point() and tensor.element_size() < 4:  # float16, bfloat16: numpy lacks bfloat16
            tensor = tensor.float()
        return tensor.numpy()
    except (RuntimeError, TypeError) as exc:
        raise OutputError(
            f"{system} returned a tensor that cannot be read for {where} ({output.dtype}, {output.device}): {exc}"
        ) from exc


def takes_numpy(system: Any) -> bool:
    """Whether ``system`` asked for numpy arrays (``audio_as_numpy = True``): its
    job then never imports torch (about 2 CPU s per job)."""
    return getattr(system, "audio_as_numpy", False) is True


def tensor_of(array: np.ndarray) -> Any:
    """``array`` as a torch tensor sharing its memory (torch imported here, when a
    system takes tensors)."""
    import torch

    return torch.from_numpy(array)


def limit_threads(threads: int, with_torch: bool = True) -> None:
    """Hold the system to the job's threads: jobs sharing a machine must not
    each start one thread per core (that slows all of them several-fold)."""
    threads = max(1, int(threads))
    if with_torch:
        import torch

        torch.set_num_threads(threads)
        log.info("torch uses %d thread(s)", torch.get_num_threads())
        return
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)  # numpy's BLAS and OpenMP pools, for the rest of the job
    log.info("numpy's thread pools use %d thread(s) (torch not imported)", threads)


def absolute(path: Path | str) -> Path:
    """``path`` made absolute against the job's working directory (symbolic links
    kept): the job's paths stay right whatever directory a system moves to."""
    return Path(os.path.abspath(path))


@contextlib.contextmanager
def working_directory_kept(what: str) -> Iterator[None]:
    """Put the working directory back after ``what`` (a system's import, build
    or call) if it moved it (``os.chdir``), with a warning naming it."""
    before = os.getcwd()
    try:
        yield
    finally:
        try:
            now = os.getcwd()
        except OSError:  # it moved into a folder that is gone since
            now = "a folder deleted since"
        if now != before:
            log.warning(
                "%s changed the working directory to %s; changed it back to %s (a system must "
                "not rely on the working directory: use absolute paths)",
                what,
                now,
                before,
            )
            os.chdir(before)


def prepare_system(
    enhancement_name: str, args_yaml: Path | str, plugin_folders: Sequence[Path | str] | None = None
) -> tuple[Any, SystemArgs]:
    """Import plugins, find the class, check its args, build it: no audio read yet.
    ``plugin_folders`` are the folders the workflow resolved when it planned (so
    a job needs neither ``ECHIPLUGINS`` nor its planner's working directory);
    None: ``plugin_dirs()`` of this process."""
    with working_directory_kept(f"importing the plugins for {enhancement_name}"):
        load_plugins(plugin_dirs() if plugin_folders is None else [Path(f) for f in plugin_folders])
    cls = get_enhancement_class(enhancement_name)
    system_args = load_args(Path(args_yaml))
    if system_args.name is not None and system_args.name != enhancement_name:
        raise ArgsError(
            f"args yaml {system_args.path} is for system {system_args.name!r}, "
            f"but enhancement_name is {enhancement_name!r}; pass matching enhance_args"
        )
    with working_directory_kept(f"building {enhancement_name}"):
        return build_system(cls, system_args), system_args


def enhance_session_device(
    target: SessionDevice,
    device_wav: Path | str,
    raw_device_wav: Path | str,
    enrolment_wavs: Mapping[str, Path | str],
    outputs: Mapping[str, Path | str],
    enhancement_name: str,
    args_yaml: Path | str,
    threads: int = 1,
    plugin_folders: Sequence[Path | str] | None = None,
    planned_args: str | None = None,
) -> None:
    """Enhance every partner of one session-device and write their files, the
    work in a child process the job watches (enhancement.systems.supervise): a system
    that hangs past its args yaml's `time_limit`, exits, or is killed for
    memory ends the job with a message naming it and the target. Every path is
    made absolute first: a system that changes the working directory moves no
    file the job reads or writes. ``planned_args``: the args yaml's meaning
    when the run was planned (``SystemArgs.meaning``); a yaml changed since is
    an error, not outputs under a record of other args."""
    device_wav, raw_device_wav, args_yaml = absolute(device_wav), absolute(raw_device_wav), absolute(args_yaml)
    enrolment_wavs = {pid: absolute(path) for pid, path in enrolment_wavs.items()}
    outputs = {pid: absolute(path) for pid, path in outputs.items()}
    system_args = load_args(args_yaml)
    if planned_args is not None and system_args.meaning() != planned_args:
        raise ArgsError(
            f"args yaml {args_yaml} changed after this run was planned (for {target.label()}); "
            "run Snakemake again: it re-runs the jobs the change concerns"
        )

    def work(report: Callable[[str], None]) -> None:
        # The job runs inside work_dir; the system, in the folder Snakemake was started
        # from, where relative paths among its args (a checkpoint) mean what they did.
        os.chdir(os.environ.get(LAUNCH_DIR_VARIABLE) or os.getcwd())
        write_partner_outputs(
            target,
            device_wav,
            raw_device_wav,
            enrolment_wavs,
            outputs,
            enhancement_name,
            args_yaml,
            report,
            plugin_folders,
            threads,
        )

    limit = system_args.time_limit
    run_supervised(
        work,
        what=f"{enhancement_name} on {target.label()}",
        time_limit_s=None if limit is None else limit * 60,
        memory_hint=(
            f"Raise mem_mb under resources: in {system_args.path}, or for this run --set-resources enhance:mem_mb=<MB>."
        ),
    )
    # read-only: an edit of a submission file (a hard link of one) must not change the
    # system's output unnoticed (enhancement.data.outputs)
    make_read_only(outputs.values())


def write_partner_outputs(
    target: SessionDevice,
    device_wav: Path | str,
    raw_device_wav: Path | str,
    enrolment_wavs: Mapping[str, Path | str],
    outputs: Mapping[str, Path | str],
    enhancement_name: str,
    args_yaml: Path | str,
    report: Callable[[str], None] = lambda stage: None,
    plugin_folders: Sequence[Path | str] | None = None,
    threads: int = 1,
) -> None:
    """The job's work: build the system, read the audio once, check and write
    each partner's output (``report`` is told each stage)."""
    report(f"building {enhancement_name}")
    system, _ = prepare_system(enhancement_name, args_yaml, plugin_folders)
    as_numpy_audio = takes_numpy(system)
    limit_threads(threads, with_torch=not as_numpy_audio)
    raw = audio_info(raw_device_wav, RAW_RATE, DEVICE_CHANNELS.get(target.device))
    expected = expected_length(raw.frames, raw.samplerate)

    for path in enrolment_wavs.values():  # read raw at 48 kHz, not checked by a resample job
        check_min_duration(path, audio_info(path), MIN_ENROLMENT_SECONDS)
    report(f"reading {device_wav}")
    started = time.perf_counter()
    audio, fs = read_channels_first(device_wav)
    device_audio = audio if as_numpy_audio else tensor_of(audio)
    log.info(
        "%s: loaded %s (%d ch, %.1f s at %d Hz) in %.1f s",
        target.label(),
        device_wav,
        audio.shape[0],
        audio.shape[1] / fs,
        fs,
        time.perf_counter() - started,
    )

    started = time.perf_counter()
    report(f"running {enhancement_name} for {target.label()}")
    for pid, result in partner_outputs(
        system, enhancement_name, target, device_audio, fs, enrolment_wavs, list(outputs), device_wav, report
    ):
        where = target.label(pid)
        out_path = outputs[pid]
        report(f"checking and writing the output for {where}")
        samples = to_submission_samples(result, expected, enhancement_name, where)
        write_pcm16_atomically(out_path, samples, OUTPUT_RATE)
        log.info(
            "%s: wrote %s (%.1f s of audio in %.1f s)",
            where,
            out_path,
            expected / OUTPUT_RATE,
            time.perf_counter() - started,
        )
        # Let go of this output before the next partner's is made: one whole-session
        # output (140 MB at 36 minutes) fewer at the job's peak.
        del result, samples
        started = time.perf_counter()


def partner_outputs(
    system: Any,
    name: str,
    target: SessionDevice,
    device_audio: Any,
    fs: int,
    enrolment_wavs: Mapping[str, Path | str],
    pids: list[str],
    device_wav: Path | str,
    report: Callable[[str], None] = lambda stage: None,
) -> Iterator[tuple[str, Any]]:
    """Yield ``(pid, output)`` for each partner, in ``pids`` order.

    A system with a ``process_partners`` method gets all partners in one call (it may batch
    them); otherwise ``process_session`` is called per partner. Every call sees the device
    audio as read: if a call (or the output check, through an output that is a view of the
    session) changed it in place, it is read again from ``device_wav`` into the same buffer
    before the next call, with a warning. Consume each output before asking for the next.
    """
    as_audio = (lambda array: array) if takes_numpy(system) else tensor_of
    context = {"dataset": target.dataset, "session": target.session, "device": target.device}
    partners = getattr(system, "process_partners", None)
    if callable(partners):
        enrolments = {}
        for pid in pids:
            enrolment, enrol_fs = read_channels_first(enrolment_wavs[pid])
            enrolments[pid] = (as_audio(enrolment[:1]), enrol_fs)
        report(f"in {name}.process_partners for {target.label()}")
        try:
            with working_directory_kept(f"{name}.process_partners for {target.label()}"):
                results = partners(device_audio, fs, enrolments, kwargs=context)
        except (Exception, SystemExit) as exc:
            raise SystemFailed(f"{name}.process_partners failed for {target.label()}: {describe(exc)}") from exc
        del enrolments
        if not isinstance(results, Mapping) or set(pids) - set(results):
            got = sorted(map(str, results)) if isinstance(results, Mapping) else type(results)
            raise OutputError(
                f"{name}.process_partners returned {got} for {target.label()}; "
                f"expected a dict with an output for each of {pids}"
            )
        results = dict(results)
        for pid in pids:
            yield pid, results.pop(pid)
        return

    session = device_audio.numpy() if hasattr(device_audio, "numpy") else device_audio  # the same memory
    checksum = zlib.crc32(session)
    for pid in pids:
        enrolment, enrol_fs = read_channels_first(enrolment_wavs[pid])
        report(f"in {name}.process_session for {target.label(pid)}")
        try:
            with working_directory_kept(f"{name}.process_session for {target.label(pid)}"):
                result = system.process_session(
                    device_audio, fs, as_audio(enrolment[:1]), enrol_fs, kwargs={**context, "pid": pid}
                )
        except (Exception, SystemExit) as exc:
            raise SystemFailed(f"{name}.process_session failed for {target.label(pid)}: {describe(exc)}") from exc
        yield pid, result
        del result
        if pid != pids[-1] and zlib.crc32(session) != checksum:
            log.warning(
                "%s: %s changed the device audio in place; reading %s again for the next partner",
                target.label(pid),
                name,
                device_wav,
            )
            read_channels_first(device_wav, out=session)
